"""The documentation stays true: every option is in .env.example, README and docs/metrics.md."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.cli import cli
from nbu_push.collect import collectors
from nbu_push.config import OPTION, OPTIONS

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
    names = {f.name + ("_total" if f.type == "counter" else "")  # the parser drops _total
             for f in text_string_to_metric_families(result.stdout)}
    documented = (REPO / "docs" / "metrics.md").read_text()
    for name in names:
        assert f"`{name}`" in documented, name


def readme_option_rows() -> dict[str, str]:
    """The README configuration table: each environment variable -> its default cell."""
    rows: dict[str, str] = {}
    for line in (REPO / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`--"):
            for name in re.findall(r"`([A-Z_]+)`", cells[1]):
                rows[name] = cells[2]
    return rows


def test_readme_option_table_shows_the_code_defaults():
    rows = readme_option_rows()
    for option in OPTIONS:
        assert option.envvar in rows, f"{option.envvar} has no row in README.md"
        if option.default is not None:
            assert rows[option.envvar] == f"`{option.default}`", option.envvar


def test_env_example_shows_the_code_defaults():
    lines = (REPO / ".env.example").read_text().splitlines()
    for option in OPTIONS:
        if option.default is None or option.metavar is None:
            continue
        [shown] = [line.split("=", 1)[1] for line in lines
                   if line.lstrip("#").startswith(f"{option.envvar}=")]
        assert shown == option.default, option.envvar


def test_every_collector_list_is_the_declared_set():
    """The `--collectors` help, its README row and .env.example comment, and the README
    permission table name exactly the declared collectors."""
    declared = set(collectors())
    help_list = re.search(r"\((.*)\)", OPTION["collectors"].help)
    assert help_list and set(help_list.group(1).replace(" ", "").split(",")) == declared
    readme = (REPO / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `--collectors`")]
    assert set(re.findall(r"`([a-z_]+)`", row.split("|")[4])) == declared
    table = readme[readme.index("| Collector | NetBackup RBAC permission |"):]
    table = table[:table.index("\n\n")]
    assert set(re.findall(r"`([a-z_]+)`", table)) == declared
    lines = (REPO / ".env.example").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("#NBU_COLLECTORS="))
    comment = []
    while lines[at - 1 - len(comment)].startswith("# "):
        comment.insert(0, lines[at - 1 - len(comment)][2:])
    listed = " ".join(comment).split(":", 1)[1].split("(default")[0]
    assert set(listed.replace(" ", "").strip(",").split(",")) == declared
