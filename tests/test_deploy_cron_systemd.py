"""cron and systemd files: valid as shipped, and the cron wrapper behaves."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .cli import clean_env
from .conftest import REPO, require_binary

CRON = REPO / "cron"


def nbu_push_bin() -> str:
    found = Path(sys.executable).parent / "nbu-push"
    assert found.exists(), "install the package (pip install -e .) to get the nbu-push script"
    return str(found)


def test_cron_d_file_is_valid_for_system_cron():
    assert "." not in "nbu-push" and (CRON / "nbu-push").exists()  # cron skips dotted names
    entries = [line for line in (CRON / "nbu-push").read_text().splitlines()
               if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(entries) == 1
    fields = entries[0].split()
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    assert fields[5] == "nbu-push"  # the user field of /etc/cron.d
    assert fields[6] == "/usr/local/bin/nbu-push-cron"
    assert "%" not in entries[0]
    assert 'MAILTO=""' in (CRON / "nbu-push").read_text()


def wrapper(env_file: Path, tmp_path: Path, *args: str, log: str = "stderr"):
    env = clean_env(NBU_PUSH_BIN=nbu_push_bin(), NBU_PUSH_ENV_FILE=str(env_file),
                    NBU_LOCK_FILE=str(tmp_path / "cron.lock"), NBU_PUSH_CRON_LOG=log)
    return subprocess.run(["sh", str(CRON / "nbu-push-cron"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_wrapper_runs_preserves_exit_codes_and_prevents_overlap(tmp_path, simulator):
    require_binary("flock")
    assert os.stat(CRON / "nbu-push-cron").st_mode & stat.S_IXUSR
    env_file = tmp_path / "nbu-push.env"
    env_file.write_text(f"NBU_URL={simulator.url}\nNBU_API_KEY={simulator.api_key}\n"
                        f"NBU_PUSH_TEXTFILE={tmp_path / 'nbu_push.prom'}\n")
    env_file.chmod(0o600)
    ok = wrapper(env_file, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "nbu_push.prom").exists()
    assert wrapper(tmp_path / "missing.env", tmp_path).returncode == 78
    with open(tmp_path / "cron.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        skipped = wrapper(env_file, tmp_path)
        assert skipped.returncode == 75
        assert "another run still holds" in skipped.stderr  # not silent
    if shutil.which("logger"):  # syslog mode: output to logger, exit code still nbu-push's
        assert wrapper(tmp_path / "missing.env", tmp_path, log="syslog").returncode == 78
        assert wrapper(env_file, tmp_path, log="syslog").returncode == 0


def test_systemd_units_verify(tmp_path):
    analyze = require_binary("systemd-analyze")
    for name in ("nbu-push.service", "nbu-push.timer"):
        text = (REPO / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/usr/local/bin/nbu-push", nbu_push_bin()))
    result = subprocess.run([analyze, "verify", str(tmp_path / "nbu-push.service"),
                             str(tmp_path / "nbu-push.timer")], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    calendar = subprocess.run([analyze, "calendar", "*:0/5"], capture_output=True, text=True)
    assert "*-*-* *:00/5:00" in calendar.stdout
    # exposure 0 (best) to 10; the unit scores 1.7 ("OK"): 2.0 keeps it hardened
    security = subprocess.run([analyze, "security", "--offline=true", "--threshold=20",
                               str(tmp_path / "nbu-push.service")], capture_output=True,
                              text=True, cwd=tmp_path, timeout=60)
    assert security.returncode == 0, security.stdout + security.stderr
    assert "Overall exposure level for nbu-push.service: 1." in security.stdout


def test_systemd_service_policies():
    service = (REPO / "systemd" / "nbu-push.service").read_text()
    timer = (REPO / "systemd" / "nbu-push.timer").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", service, re.MULTILINE))
    assert settings["Type"] == "oneshot"
    assert int(settings["TimeoutStartSec"]) > 0
    assert settings["DynamicUser"] == "yes" and settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict" and settings["PrivateTmp"] == "yes"
    assert settings["EnvironmentFile"].startswith("/etc/nbu-push/")
    assert "--api-key-file %d/api-key" in service  # a credential, as a flag: it wins
    timer_settings = dict(re.findall(r"^(\w+)=(.*)$", timer, re.MULTILINE))
    assert timer_settings["Persistent"] == "true"
    assert timer_settings["OnCalendar"] == "*:0/5"


def test_systemd_credential_wins_over_the_env_file(simulator, tmp_path):
    """As systemd resolves it: Environment= lines, then the EnvironmentFile (the README installs
    .env.example there, which names NBU_API_KEY_FILE) overriding them, then ExecStart with %d
    (the credentials directory). The credential must be the key that is used."""
    from .cli import nbu_push

    unit = (REPO / "systemd" / "nbu-push.service").read_text().splitlines()
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "api-key").write_text(simulator.api_key + "\n")
    env: dict[str, str] = {}
    for line in unit:
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            env[name] = value
    for line in (REPO / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            env[name] = value  # EnvironmentFile= wins over Environment=
    env = {name: value.replace("%d", str(creds)) for name, value in env.items()}
    env.update(NBU_URL=simulator.url, NBU_LOCK_FILE="off")
    [exec_start] = [line.removeprefix("ExecStart=") for line in unit
                    if line.startswith("ExecStart=")]
    args = exec_start.replace("%d", str(creds)).split()[1:]
    assert not os.path.exists(env["NBU_API_KEY_FILE"])  # /etc/nbu-push/api-key: not ours
    result = nbu_push(*args, "--dry-run", env=clean_env(**env))
    assert result.code == 0, result.stderr


def test_every_shell_script_passes_shellcheck():
    scripts = [REPO / "cron" / "nbu-push-cron", REPO / ".ci" / "run",
               *sorted((REPO / "scripts").glob("*.sh"))]
    result = subprocess.run([require_binary("shellcheck"), *map(str, scripts)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("key_mode,expect", [(0o640, 0), (0o600, 78)])
def test_the_user_crontab_line_runs_as_an_unprivileged_user(tmp_path, simulator, key_mode,
                                                            expect):
    """The same line as `nobody`, in a world-readable copy: nbu-push and its runtime packages,
    run by the system Python of the same version (what the user's own venv would hold). The
    key file is root's, group `nogroup` as the README's `-g nbu-push`: 0640 is readable by the
    group, 0600 is not, and that is one clear configuration error."""
    import importlib
    import sysconfig
    import tempfile

    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    runuser = require_binary("runuser")
    if not os.path.exists(python):
        pytest.fail(f"{python} is needed to run nbu-push as another user")
    base = Path(tempfile.mkdtemp(prefix="nbu-unpriv-"))
    try:
        base.chmod(0o755)
        code = base / "site"
        shutil.copytree(REPO / "nbu_push", code / "nbu_push",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("requests", "urllib3", "idna", "charset_normalizer", "certifi", "click",
                     "dotenv", "msgspec", "prometheus_client"):
            package = Path(importlib.import_module(name).__file__).parent
            shutil.copytree(package, code / name, ignore=shutil.ignore_patterns("__pycache__"))
        assert sysconfig.get_python_version() == python.removeprefix("/usr/bin/python")
        home = base / "home"
        (home / "nbu-push" / ".venv" / "bin").mkdir(parents=True)
        (home / "nbu-push" / "cron").mkdir()
        shutil.copy(CRON / "nbu-push-cron", home / "nbu-push" / "cron" / "nbu-push-cron")
        launcher = home / "nbu-push" / ".venv" / "bin" / "nbu-push"
        launcher.write_text(f"#!/bin/sh\nPYTHONPATH={code} exec {python} -m nbu_push \"$@\"\n")
        launcher.chmod(0o755)
        (home / ".config" / "nbu-push").mkdir(parents=True)
        env_file = home / ".config" / "nbu-push" / "nbu-push.env"
        key = base / "api-key"
        key.write_text(simulator.api_key + "\n")
        env_file.write_text(f"NBU_URL={simulator.url}\nNBU_API_KEY_FILE={key}\n"
                            f"NBU_SITE=unprivileged\nNBU_PUSH_TEXTFILE={home / 'nbu_push.prom'}\n")
        env_file.chmod(0o600)
        for path in (home, *home.rglob("*")):
            os.chown(path, 65534, 65534)
        os.chown(key, 0, 65534)
        key.chmod(key_mode)
        line = next(text.lstrip("# ") for text in (CRON / "crontab.example").read_text()
                    .splitlines() if text.lstrip("# ").startswith("*/5"))
        result = subprocess.run(
            [runuser, "-u", "nobody", "--", "env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin",
             "NBU_PUSH_CRON_LOG=stderr", "/bin/sh", "-c", line.split(None, 5)[5]],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == expect, result.stderr
        if expect:
            assert "NBU_API_KEY_FILE: cannot read" in result.stderr
            assert "Permission denied" in result.stderr and "Traceback" not in result.stderr
            return
        assert (home / "nbu_push.prom").stat().st_uid == 65534
        assert (home / ".cache" / "nbu-push" / "nbu-push.lock").exists()
        assert (home / ".local" / "state" / "nbu-push" / "unprivileged.json").exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
