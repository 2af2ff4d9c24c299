"""The option table, `--help` and the exit codes: one source each, and what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nbu_push.config import OPTIONS, settings_from
from nbu_push.runtime.errors import EXIT_CODES

from .cli import clean_env, nbu_push

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_exit_codes_are_the_table():
    text = README.read_text()
    section = text[text.index("## Exit codes"):]
    rows = re.findall(r"^\| ([0-9][0-9, ]*) \| (.+?) \|$", section, re.M)
    assert rows == list(EXIT_CODES)


def test_help_prints_the_exit_code_table_and_the_defaults():
    result = nbu_push("--help", env=clean_env())
    assert result.code == 0
    help_text = " ".join(result.stdout.split())
    for code, meaning in EXIT_CODES:
        assert f"{code} {' '.join(meaning.split())}" in help_text
    for option in OPTIONS:
        assert option.flag in help_text
        if option.default:
            assert f"[default: {option.default}]" in help_text, option.name


def test_every_default_parses():
    """The defaults in the table are what a run uses: settings built from nothing but them."""
    settings = settings_from({"url": "nbu", "api_key": "k", "dry_run": True})
    assert (settings.timeout, settings.job_window, settings.deadline) == (30.0, 3600.0, 180.0)
    assert (settings.concurrency, settings.max_pages, settings.max_series) == (4, 10_000, 5000)
    assert settings.balance_slices is True


def test_help_imports_neither_requests_nor_prometheus_client():
    probe = ("import sys\n"
             "from nbu_push.cli import cli\n"
             "try:\n    cli.main(['--help'], prog_name='nbu-push')\n"
             "except SystemExit:\n    pass\n"
             "heavy = ('requests', 'urllib3', 'prometheus_client', 'msgspec')\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=clean_env(), timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"


def test_dash_h_is_help():
    result = nbu_push("-h", env=clean_env())
    assert result.code == 0 and "Usage: nbu-push" in result.stdout


def test_text_logs_name_the_site(simulator):
    from .cli import sim_env

    result = nbu_push("--dry-run", env=sim_env(simulator, NBU_SITE="primary-07"))
    assert result.code == 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all("[primary-07] " in line for line in lines)


def test_the_package_declares_its_licence():
    from importlib.metadata import metadata

    info = metadata("nbu-push")
    assert info["License"] == "Apache-2.0"
    assert (README.parent / "LICENSE").read_text().lstrip().startswith("Apache License")


@pytest.mark.parametrize("args,env,code,text", [
    ((), {"NBU_INSECURE": "maybe"}, 78, "NBU_INSECURE"),
    (("--log-format", "xml"), {}, 78, "'xml' is not one of 'text', 'json'"),
    (("--job-slicing", "random"), {}, 78, "--job-slicing"),
    (("--nonsense",), {}, 2, "No such option"),
])
def test_bad_values_exit_78_and_unknown_options_2(args, env, code, text):
    result = nbu_push("--dry-run", *args, env=clean_env(NBU_URL="nbu", NBU_API_KEY="k", **env))
    assert result.code == code and text in result.stderr
    if code == 78:
        assert len(result.stderr.strip().splitlines()) == 1


def test_choices_are_offered_to_shell_completion():
    result = nbu_push(env=clean_env(_NBU_PUSH_COMPLETE="bash_complete", COMP_WORDS="nbu-push"
                                    " --log-format ", COMP_CWORD="2"))
    assert "text" in result.stdout and "json" in result.stdout
