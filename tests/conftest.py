"""Shared fixtures: the simulator, and real Pushgateway / node_exporter / Prometheus on loopback.

Real binaries are skipped only on a developer machine without them; with
NBU_PUSH_REQUIRE_BINARIES=1 (set by .ci/run) a missing binary fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from nbu_push.simulator import Simulator

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}")
                                  else None)
    if path:
        return path
    if os.environ.get("NBU_PUSH_REQUIRE_BINARIES") == "1":
        pytest.fail(f"{name} is required (NBU_PUSH_REQUIRE_BINARIES=1) but not installed")
    pytest.skip(f"{name} not installed")
    raise AssertionError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, log: Path, budget: float = 10.0,
               status: int = 200) -> None:
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(url, timeout=0.5).status_code == status:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    stop(proc)
    pytest.fail(f"{url} did not become ready: {log.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    def __init__(self, binary: str, args: list[str], ready_path: str, tmp: Path,
                 ready_status: int = 200) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{Path(binary).name}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, f"--web.listen-address=127.0.0.1:{self.port}", *args],
                stdout=subprocess.DEVNULL, stderr=log)
        wait_ready(self.url + ready_path, self.proc, self.log, status=ready_status)

    def stop(self) -> None:
        stop(self.proc)


@pytest.fixture(scope="session")
def pushgateway(tmp_path_factory) -> Iterator[Server]:
    binary = require_binary("prometheus-pushgateway")
    server = Server(binary, ["--persistence.file=", "--web.enable-admin-api",
                             "--log.level=warn"], "/-/ready", tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


@pytest.fixture
def gateway(pushgateway: Server) -> Server:
    """The session's Pushgateway, wiped before each test."""
    requests.put(pushgateway.url + "/api/v1/admin/wipe", timeout=5).raise_for_status()
    return pushgateway


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    binary = require_binary("prometheus-node-exporter")
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    server = Server(binary, ["--collector.disable-defaults", "--collector.textfile",
                             f"--collector.textfile.directory={textfiles}",
                             "--web.disable-exporter-metrics"], "/metrics", tmp_path)
    yield server, textfiles
    server.stop()


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_binary("promtool")


def promtool_check(promtool: str, exposition: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, "check", "metrics"], input=exposition,
                          capture_output=True, timeout=30)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(jobs=600, units=7) as sim:
        yield sim


@pytest.fixture(autouse=True)
def state_directory(tmp_path_factory, monkeypatch) -> Path:
    """Each test keeps its run state apart (as systemd's StateDirectory= would); the runs
    inside one test share it, as a deployment's runs do."""
    directory = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("STATE_DIRECTORY", str(directory))
    return directory


def family_name(family) -> str:
    """The name in the exposition: prometheus_client's parser drops a counter's `_total`."""
    return family.name + "_total" if family.type == "counter" else family.name


SLOW_FIXTURES = frozenset({"pushgateway", "gateway", "prometheus", "node_exporter", "store",
                           "big_simulator"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` what starts a real component or a deployment tool, so that
    `pytest -m "not slow"` is the fast inner loop."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES or item.path.name.startswith("test_deploy_"):
            item.add_marker(pytest.mark.slow)
