"""`nbu-push check`: all pass against the simulator; each failure names itself and its fix."""

from __future__ import annotations

import json
import socket

import pytest

from nbu_push.simulator import Faults, Simulator
from nbu_push.simulator.server import self_signed_certificate

from .cli import nbu_push, sim_env


def lines(result) -> dict[str, str]:
    """check name -> its line."""
    return {line[2:].split(":", 1)[0]: line for line in result.stdout.splitlines()}


def test_everything_passes_against_the_simulator(tmp_path):
    with Simulator(jobs=100) as sim:
        result = nbu_push("check", env=sim_env(sim, NBU_PUSH_TEXTFILE=str(tmp_path / "n.prom"),
                                               NBU_LOCK_FILE=str(tmp_path / "lock")))
        sent = {(r.method, r.path) for r in sim.requests}
    assert result.code == 0, result.stdout + result.stderr
    found = lines(result)
    assert all(line.startswith("✓") for line in found.values())
    for name in ("configuration", "DNS", "TCP", "TLS and /ping", "authentication",
                 "permission for jobs", "permission for clients", "textfile directory",
                 "lock location", "run state location"):
        assert name in found, name
    assert not any(method != "GET" for method, _ in sent)  # looked, changed nothing
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_wrong_key_fails_authentication():
    with Simulator(jobs=10, api_key="the-right-key") as sim:
        result = nbu_push("check", env=sim_env(sim, NBU_API_KEY="a-wrong-key"))
    assert result.code == 1
    assert lines(result)["authentication"].startswith("✗") and "HTTP 401" in result.stdout
    assert "fix: check NBU_API_KEY_FILE" in result.stdout
    assert "a-wrong-key" not in result.stdout + result.stderr


def test_a_wrong_ca_fails_tls(tmp_path):
    other_ca, _ = self_signed_certificate(str(tmp_path))
    with Simulator(jobs=10, tls=True) as sim:
        result = nbu_push("check", env=sim_env(sim, NBU_CA_BUNDLE=other_ca))
    assert result.code == 1
    assert lines(result)["TLS and /ping"].startswith("✗")
    assert "fix: set NBU_CA_BUNDLE" in result.stdout


def test_a_missing_permission_names_the_collector_and_the_permission():
    with Simulator(jobs=10, faults=Faults(forbidden=True, path="/storage/disk-pools")) as sim:
        result = nbu_push("check", env=sim_env(sim))
    assert result.code == 1
    line = lines(result)["permission for disk_pools"]
    assert line.startswith("✗") and "|STORAGE|DISK-POOLS| view" in line
    assert lines(result)["permission for storage"].startswith("✓")


def test_an_unreachable_gateway_and_an_unwritable_textfile_directory():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with Simulator(jobs=10) as sim:
        result = nbu_push("check", env=sim_env(sim, PUSHGATEWAY_URL=f"http://127.0.0.1:{port}",
                                               NBU_PUSH_TEXTFILE="/proc/nbu_push.prom"))
    assert result.code == 1
    assert lines(result)["Pushgateway"].startswith("✗")
    assert "fix: check PUSHGATEWAY_URL" in lines(result)["Pushgateway"]
    assert lines(result)["textfile directory"].startswith("✗")


@pytest.mark.parametrize("env", [{"NBU_URL": ""}, {"NBU_URL": "http://[::1"}])
def test_a_configuration_error_is_the_first_and_only_line(env):
    with Simulator(jobs=10) as sim:
        result = nbu_push("check", env=sim_env(sim, **env))
    assert result.code == 78 and result.stdout.startswith("✗ configuration")
    assert len(result.stdout.splitlines()) == 1


def test_json_for_automation():
    with Simulator(jobs=10) as sim:
        result = nbu_push("check", "--format", "json", env=sim_env(sim))
    document = json.loads(result.stdout)
    assert result.code == 0 and document["ok"] is True
    assert {"name", "ok", "detail", "fix"} <= set(document["checks"][0])
