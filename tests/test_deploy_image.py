"""Static properties of the Dockerfile (no Docker engine runs here or in CI)."""

from __future__ import annotations

import json
import re

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
        result[-1].append(line)
    return result


def test_multi_stage_slim_and_non_root():
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert re.match(r"FROM python:3\.\d+-slim AS build", build[0])
    assert re.match(r"FROM python:3\.\d+-slim$", final[0])
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
    assert allowed <= {"pyproject.toml", "setup.cfg", "README.md", "nbu_push/"}
    copied = {part for line in stages()[0] if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert copied <= {"pyproject.toml", "setup.cfg", "README.md", "nbu_push"}
