"""The documentation stays true: every option is in .env.example, README and docs/metrics.md."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.cli import cli

from .cli import nbu_push
from .conftest import REPO


def envvars() -> set[str]:
    return {p.envvar for p in cli.params if isinstance(p.envvar, str)}


def test_env_example_lists_every_setting_with_a_comment():
    text = (REPO / ".env.example").read_text()
    lines = text.splitlines()
    for name in envvars() - {"NBU_PUSH_ENV_FILE"}:
        [index] = [i for i, line in enumerate(lines) if re.match(rf"#?{name}=", line)]
        assert lines[index - 1].startswith("# "), name


def test_readme_documents_every_environment_variable():
    readme = (REPO / "README.md").read_text()
    for name in envvars():
        assert f"`{name}`" in readme or f"{name}`" in readme, name


def test_docs_metrics_lists_every_emitted_metric(simulator):
    from .cli import sim_env

    result = nbu_push("--dry-run", env=sim_env(simulator))
    names = {f.name for f in text_string_to_metric_families(result.stdout)}
    documented = (REPO / "docs" / "metrics.md").read_text()
    for name in names:
        assert f"`{name}`" in documented, name
