"""Remote write into a real Prometheus (its remote-write receiver) and a real
VictoriaMetrics: what a run writes equals the simulator's truth, series a later run no longer
writes are gone at once, a failed collector's are not; and, against a small receiver of our
own, the protocol's answers: 400, 503 then 204, the credential."""

from __future__ import annotations

import http.server
import math
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cramjam
import pytest
import requests

from nbu_push.collect import collectors
from nbu_push.publish.write_request import STALE_NAN, is_stale, time_series, write_requests
from nbu_push.simulator import Faults, Simulator

from .cli import nbu_push, sim_env
from .conftest import free_port, require_binary, stop, wait_ready
from .truth import expected, series


class Store:
    """A receiver with the Prometheus query API: where to write, how to read back."""

    def __init__(self, write_url: str, query_url: str) -> None:
        self.write_url, self.query_url = write_url, query_url

    def stored(self, site: str) -> dict[str, dict[tuple, float]]:
        """Every series of `site` an instant query returns now, as the truth's shape."""
        response = requests.get(self.query_url, params={"query": f'{{site="{site}"}}'},
                                timeout=10)
        response.raise_for_status()
        found: dict[str, dict[tuple, float]] = {}
        for item in response.json()["data"]["result"]:
            labels = dict(item["metric"])
            name = labels.pop("__name__")
            labels.pop("site")
            found.setdefault(name, {})[tuple(sorted(labels.items()))] = float(item["value"][1])
        return found


def start(binary: str, args: list[str], ready: str, tmp_path: Path) -> subprocess.Popen:
    log = tmp_path / f"{Path(binary).name}.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=handle)
    wait_ready(ready, proc, log, budget=20)
    return proc


@pytest.fixture(params=["prometheus", "victoria-metrics"])
def store(request, tmp_path) -> Iterator[Store]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if request.param == "prometheus":
        proc = start(require_binary("prometheus"), [
            f"--config.file={write_config(tmp_path)}", f"--storage.tsdb.path={tmp_path / 'db'}",
            f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
            "--log.level=warn"], base + "/-/ready", tmp_path)
    else:
        proc = start(require_binary("victoria-metrics"), [
            f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp_path / 'vm'}",
            "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=ERROR"],
            base + "/health", tmp_path)
    yield Store(base + "/api/v1/write", base + "/api/v1/query")
    stop(proc)


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\n")
    return config


def run_into(store: Store, sim: Simulator, tmp_path: Path, **env: str):
    textfile = tmp_path / "also.prom"
    result = nbu_push(env=sim_env(sim, NBU_REMOTE_WRITE_URL=store.write_url, NBU_SITE="rw",
                                  NBU_PUSH_TEXTFILE=str(textfile),
                                  NBU_STATE_FILE=str(tmp_path / "state.json"), **env))
    return result, series(textfile.read_text()) if textfile.exists() else {}


def settle(store: Store, done: Callable[[dict], bool], site: str = "rw") -> dict:
    """What the store answers once `done` says so (writes are visible within a second or
    so, VictoriaMetrics' once its in-memory buffer is flushed), or after 15 s."""
    deadline = time.monotonic() + 15
    while True:
        found = store.stored(site)
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_what_a_run_writes_equals_the_truth_and_vanished_series_go_at_once(store, tmp_path):
    with Simulator(jobs=300) as sim:
        first, published = run_into(store, sim, tmp_path)
        assert first.code == 0, first.stderr
        truth = expected(sim, published)
        stored = settle(store, lambda found: same(found, published))
        assert same(stored, published)  # the same series as the exposition, every one
        for families in truth.values():
            for family, values in families.items():
                if values:
                    assert same(stored[family], values), family
        # storage units removed, licensing switched off, and disk pools refused (403):
        kept_units = sim.dataset.units[:2]
        sim.dataset.units = kept_units
        sim.faults = Faults(forbidden=True, path="/storage/disk-pools")
        collectors_run = "jobs,storage,disk_pools,job_states"
        second, _ = run_into(store, sim, tmp_path, NBU_COLLECTORS=collectors_run)
        assert second.code == 3, second.stderr
        units = {unit.name for unit in kept_units if unit.free is not None}
        after = settle(store, lambda found: units == {
            dict(labels)["storage_unit"] for labels in found["nbu_storage_unit_free_bytes"]})
    assert {dict(labels)["storage_unit"] for labels in after["nbu_storage_unit_free_bytes"]} \
        == units  # the removed ones are gone at once, not in five minutes
    switched_off = {family.name for name, collector in collectors().items()
                    if name not in collectors_run.split(",") for family in collector.families}
    assert set(after) == set(published) - switched_off  # gone at once
    assert not [name for name in after if name.startswith(("nbu_license_", "nbu_tape_"))]
    for name in published:  # a failed collector's series stay as they were, and so does the
        # time of the last fully successful run
        if name.startswith("nbu_disk_pool_") or name == "nbu_push_last_success_timestamp_seconds":
            assert same(after[name], published[name]), name
    assert after["nbu_push_success"] == {(): 0.0}


def same(found: dict, wanted: dict) -> bool:
    """Equal keys, and values equal to 12 significant digits: VictoriaMetrics keeps that
    many (Prometheus all 17)."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and found.keys() == wanted.keys() and all(
            same(found[key], wanted[key]) for key in wanted)
    return math.isclose(found, wanted, rel_tol=1e-12, abs_tol=1e-12)


class Receiver(http.server.ThreadingHTTPServer):
    """Answers `statuses` in turn (then 204) and keeps what it was sent."""

    def __init__(self, statuses: list[tuple[int, str]]) -> None:
        self.statuses, self.received = list(statuses), []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((dict(self.headers), body))
                status, text = owner.statuses.pop(0) if owner.statuses else (204, "")
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v1/write"


def test_a_400_is_one_error_line_and_the_publish_failure_code(tmp_path):
    receiver = Receiver([(400, "out of order sample")])
    with Simulator(jobs=50) as sim:
        result = nbu_push(env=sim_env(sim, NBU_REMOTE_WRITE_URL=receiver.url,
                                      NBU_STATE_FILE="off"))
    receiver.shutdown()
    assert result.code == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "HTTP 400: out of order sample" in errors[0]
    assert len(receiver.received) == 1  # never retried
    assert "Traceback" not in result.stderr


def test_503_then_204_succeeds_with_a_retry_and_the_credential_goes_only_there(tmp_path):
    token = "rw-token-" + "s3cr3t" * 4
    (tmp_path / "token").write_text(token + "\n")
    receiver = Receiver([(503, "busy")])
    with Simulator(jobs=50) as sim:
        result = nbu_push("--log-level", "debug", env=sim_env(
            sim, NBU_REMOTE_WRITE_URL=receiver.url, NBU_STATE_FILE="off",
            NBU_REMOTE_WRITE_BEARER_TOKEN_FILE=str(tmp_path / "token")))
        to_netbackup = [r.headers.get("Authorization", "") for r in sim.requests]
    receiver.shutdown()
    assert result.code == 0, result.stderr
    assert len(receiver.received) == 2  # the 503, then the same body again
    (_first_headers, first), (headers, body) = receiver.received
    assert first == body
    assert headers["Authorization"] == f"Bearer {token}"
    assert headers["Content-Encoding"] == "snappy"
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["X-Prometheus-Remote-Write-Version"] == "0.1.0"
    assert token not in result.stdout + result.stderr
    assert not any(token in value for value in to_netbackup)
    decoded = bytes(cramjam.snappy.decompress_raw(body))
    assert b"nbu_push_success" in decoded and b"site" in decoded


def test_check_probes_without_writing(store, tmp_path):
    with Simulator(jobs=20) as sim:
        result = nbu_push("check", env=sim_env(sim, NBU_REMOTE_WRITE_URL=store.write_url,
                                               NBU_SITE="probe", NBU_STATE_FILE="off"))
    assert "remote write" in result.stdout and "accepts an empty write request" in \
        result.stdout, result.stdout
    time.sleep(1)
    assert store.stored("probe") == {}


def test_requests_are_bounded_and_stale_markers_are_the_special_nan():
    many = [((("__name__", "nbu_x"), ("i", str(n))), float(n)) for n in range(4500)]
    bodies = list(write_requests(many, 1_700_000_000_000))
    assert len(bodies) == 3
    assert is_stale(STALE_NAN) and not is_stale(float("nan"))
    encoded = time_series((("__name__", "a"), ("b", "c")), 1.5, 1_700_000_000_000)
    assert encoded.startswith(b"\x0a\x0d\x0a\x08__name__\x12\x01a")  # Label{name, value}
