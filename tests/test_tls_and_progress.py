"""TLS against the simulator's self-signed certificate, and the TTY-only progress line."""

from __future__ import annotations

import io
import time

import pytest

from nbu_push.runtime.progress import Progress
from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator import Simulator

from .cli import nbu_push
from .cli import sim_env as plain_env

SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"


def sim_env(sim, **extra):
    """As on many hosts: a REQUESTS_CA_BUNDLE that must not override nbu-push's own setting."""
    return plain_env(sim, REQUESTS_CA_BUNDLE=SYSTEM_CAS, CURL_CA_BUNDLE=SYSTEM_CAS, **extra)


@pytest.fixture(scope="module")
def tls_simulator():
    with Simulator(jobs=300, tls=True) as sim:
        yield sim


def test_https_with_the_ca_bundle(tls_simulator):
    assert tls_simulator.url.startswith("https://")
    result = nbu_push("--dry-run", env=sim_env(tls_simulator,
                                               NBU_CA_BUNDLE=tls_simulator.ca_file))
    assert result.code == 0, result.stderr
    assert "WARNING" not in result.stderr


def test_unknown_certificate_is_refused(tls_simulator):
    result = nbu_push("--dry-run", env=sim_env(tls_simulator))
    assert result.code == 1, result.output
    assert "TLS verification failed" in result.stderr and "NBU_CA_BUNDLE" in result.stderr
    assert "Traceback" not in result.output


def test_insecure_works_and_warns(tls_simulator):
    result = nbu_push("--dry-run", "--insecure", env=sim_env(tls_simulator))
    assert result.code == 0, result.stderr
    assert "WARNING [test-site] TLS verification is OFF" in result.stderr


def test_the_trust_settings_are_checked_once_per_pool_and_again_when_they_change(
        tls_simulator, monkeypatch):
    """requests checks the CA bundle (exists, isdir) before every request; our adapter only
    when the pool or `verify` changes (verification itself is every connection's)."""
    import os

    import requests

    from nbu_push.runtime.http import new_session

    checked: dict[str, list] = {"exists": [], "isdir": []}

    def counted(name):  # counts, and answers truly
        real = getattr(os.path, name)

        def check(path):
            checked[name].append(path)
            return real(path)
        return check

    for name in checked:
        monkeypatch.setattr(os.path, name, counted(name))
    session = new_session(tls_simulator.url)
    url = tls_simulator.url + "/admin/jobs"
    for _ in range(5):
        session.get(url, verify=tls_simulator.ca_file, timeout=10)
    assert checked["exists"].count(tls_simulator.ca_file) == 1
    assert checked["isdir"].count(tls_simulator.ca_file) == 2  # pool key once, pool once
    with pytest.raises(OSError, match="CA certificate bundle"):
        session.get(url, verify="/nonexistent/ca.pem", timeout=10)
    with pytest.raises(requests.exceptions.SSLError):  # verified against the system's CAs
        session.get(url, verify=SYSTEM_CAS, timeout=10)
    session.close()


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_draws_only_on_a_terminal():
    stats = {"jobs": CollectorStats(pages=3, records=300), "storage": CollectorStats()}
    terminal, pipe = FakeTerminal(True), FakeTerminal(False)
    for stream in (terminal, pipe):
        with Progress(stats, interval=0.01, stream=stream):
            time.sleep(0.1)
    assert "jobs: 3 pages, 300 records | storage: 0 pages, 0 records" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_no_progress_when_stderr_is_not_a_terminal(simulator):
    result = nbu_push("--dry-run", env=sim_env(simulator))
    assert "\r" not in result.stderr and "pages," not in result.stderr
