"""An adversarial server, gateway and operator (docs/reliability.md): what each once broke,
each with a small fault server or the simulator."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.collect.base import CollectContext
from nbu_push.collect.jobs import collect_jobs
from nbu_push.metrics.text import merged
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.netbackup.paging import cursor_pages, offset_pages
from nbu_push.runtime.errors import ApiError
from nbu_push.runtime.files import write_atomic
from nbu_push.runtime.retry import Backoff
from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator import Simulator

from .cli import clean_env, nbu_push, sim_env
from .truth.jobs import window_tally

BASE = "https://nbu:1556/netbackup"


def values(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "site"))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers every request with `respond(handler)` set on the server."""

    server: FaultServer

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        self.server.respond(self)

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FaultServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, respond) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.respond = respond
        self.seen: list[tuple[str, str, dict]] = []
        self.url = f"http://127.0.0.1:{self.server_port}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def fault_server() -> Iterator:
    servers: list[FaultServer] = []

    def start(respond) -> FaultServer:
        servers.append(FaultServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_a_trickling_primary_cannot_hold_the_process(tmp_path):
    """One byte every 0.3 s resets every socket timeout; the run still ends by the deadline
    plus its graces and publishes its failure status."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not stop.wait(0.3):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    textfile = tmp_path / "nbu_push.prom"
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/netbackup"
    try:
        began = time.monotonic()
        result = nbu_push(env=clean_env(NBU_URL=url, NBU_API_KEY="k", NBU_DEADLINE="2s",
                                        NBU_TIMEOUT="30s", NBU_PUSH_TEXTFILE=str(textfile)),
                          timeout=40)
        took = time.monotonic() - began
    finally:
        stop.set()
        listener.close()
    assert result.code == 75, result.stderr
    assert took < 2 + 2 + 1 + 6  # deadline, cancel grace, a second, interpreter start
    assert values(textfile.read_text())[("nbu_push_success", ())] == 0
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirecting_gateway_is_a_failed_output(fault_server, simulator, status):
    gateway = fault_server(lambda h: h.reply(status, headers={
        "Location": "http://127.0.0.1:1/metrics/job/nbu-push"}))
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url))
    assert result.code == 1, result.stderr
    assert f"HTTP {status}: redirected" in result.stderr
    assert [method for method, _, _ in gateway.seen] == ["PUT"]  # never re-sent elsewhere
    assert "run failed" in result.stderr  # the summary line tells the final outcome


def client() -> NetBackupClient:
    nbu = NetBackupClient(BASE, backoff=Backoff(attempts=1))
    nbu.set_credential("key")
    nbu.api_version = "14.0"
    return nbu


def test_an_empty_page_that_names_a_next_page_is_an_error(requests_mock):
    pages = {None: ({"data": [{"attributes": {}}] * 3, "meta": {"pagination": {"next": "2"}}}),
             "2": ({"data": [], "meta": {"pagination": {"next": "3"}}})}
    requests_mock.get(BASE + "/admin/jobs",
                      json=lambda r, c: pages[r.qs.get("page[after]", [None])[0]])
    from nbu_push.netbackup.jobs import decode_jobs_page

    with pytest.raises(ApiError, match="page 2 is empty but names a next page"):
        list(cursor_pages(client(), "/admin/jobs", {}, decode_jobs_page, CollectorStats(),
                          10))


@pytest.mark.parametrize("body", [{"data": None}, {"errorCode": 1, "errorMessage": "x"}, {}])
def test_a_200_without_a_data_list_is_an_error_not_an_empty_success(requests_mock, body):
    requests_mock.get(BASE + "/admin/jobs", json=body)
    with pytest.raises(ApiError, match="no `data` list"):
        collect_jobs(client(), CollectContext(now=1.8e9, concurrency=1))


def test_offset_paging_refuses_a_short_count_and_an_overfull_page(requests_mock):
    from nbu_push.collect.storage import decode_units_page

    requests_mock.get(BASE + "/storage/storage-units", json=lambda r, c: {
        "data": [{"id": "u"}] * (3 if r.qs["page[offset]"] == ["0"] else 0),
        "meta": {"pagination": {"count": 10}}})
    with pytest.raises(ApiError, match="count says 10 records, only 3"):
        list(offset_pages(client(), "/storage/storage-units", {}, decode_units_page,
                          CollectorStats(), 10, limit=5))
    requests_mock.get(BASE + "/storage/storage-units", json={"data": [{"id": "u"}] * 9})
    with pytest.raises(ApiError, match="9 records on a page of 5"):
        list(offset_pages(client(), "/storage/storage-units", {}, decode_units_page,
                          CollectorStats(), 10, limit=5))


def test_a_redirect_to_another_host_is_refused_and_gets_no_key(fault_server, tmp_path):
    other = fault_server(lambda h: h.reply(200, b'{"data": []}'))
    primary = fault_server(lambda h: h.reply(301, headers={
        "Location": other.url + h.path}))
    textfile = tmp_path / "nbu_push.prom"
    result = nbu_push(env=clean_env(NBU_URL=primary.url + "/netbackup", NBU_API_KEY="sekret-k",
                                    NBU_API_VERSION="14.0", NBU_PUSH_TEXTFILE=str(textfile)))
    assert result.code == 1, result.stderr
    assert "redirected to" in result.stderr
    assert other.seen == []  # not followed at all
    assert values(textfile.read_text())[("nbu_push_success", ())] == 0


def test_one_absurd_number_is_one_skipped_value(tmp_path):
    with Simulator(jobs=300, seed=31) as sim:
        now = sim.now_ms()
        sim.add_job(now - 10 * 60_000, kb=10**400)
        sim.add_job(now - 11 * 60_000, kb=int(1.7e308))
        result = nbu_push("--dry-run", env=sim_env(sim))
        truth = window_tally(sim, 3600)
    assert result.code == 0, result.stderr
    published = values(result.stdout)
    assert published[("nbu_push_values_skipped", (("collector", "jobs"),))] == 2
    finished = sum(v for (name, _), v in published.items() if name == "nbu_jobs_finished")
    assert finished == sum(truth.finished.values())  # the two jobs still count


def test_an_invalid_gzip_body_is_an_error_with_a_status(fault_server, tmp_path):
    server = fault_server(lambda h: h.reply(200, b"\x1f\x8bnot gzip at all", {
        "Content-Encoding": "gzip", "Content-Type": "application/json"}))
    textfile = tmp_path / "nbu_push.prom"
    result = nbu_push(env=clean_env(NBU_URL=server.url + "/netbackup", NBU_API_KEY="k",
                                    NBU_PUSH_TEXTFILE=str(textfile)))
    assert result.code == 1, result.stderr
    assert "could not be decoded" in result.stderr and "internal error" not in result.stderr
    assert values(textfile.read_text())[("nbu_push_success", ())] == 0


@pytest.mark.parametrize("env,setting", [
    ({"NBU_URL": "http://[::1"}, "NBU_URL"),
    ({"NBU_URL": "http://nbu primary:1556"}, "NBU_URL"),
    ({"NBU_API_KEY": "ключ-api"}, "NBU_API_KEY"),
    ({"PUSHGATEWAY_URL": "http://127.0.0.1:9", "PUSHGATEWAY_USERNAME": "u",
      "PUSHGATEWAY_PASSWORD": "пароль"}, "PUSHGATEWAY_PASSWORD"),
    ({"NBU_DEADLINE": "1000000d"}, "NBU_DEADLINE"),
    ({"NBU_JOB_WINDOW": "1000000000d"}, "NBU_JOB_WINDOW"),
])
def test_bad_values_are_configuration_errors_before_any_request(simulator, env, setting):
    result = nbu_push("--dry-run", env=sim_env(simulator, **env))
    assert result.code == 78, result.stderr
    assert setting in result.stderr and "internal error" not in result.stderr
    assert simulator.requests == []


def test_a_gateway_429_is_retried(fault_server, simulator):
    answers = iter([429, 429, 200])
    gateway = fault_server(lambda h: h.reply(next(answers), headers={"Retry-After": "0"}))
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url))
    assert result.code == 0, result.stderr
    assert len(gateway.seen) == 3


def test_a_gateway_that_stays_at_429_is_temporary(fault_server, simulator):
    gateway = fault_server(lambda h: h.reply(429, headers={"Retry-After": "0"}))
    assert nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url)).code == 75


def test_insecure_warns_once_and_json_logs_stay_json(tmp_path):
    with Simulator(jobs=300, tls=True) as sim:
        result = nbu_push("--dry-run", "--insecure", "--log-format", "json",
                          env=sim_env(sim))
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(json.loads(line) for line in lines)
    assert sum("TLS verification is OFF" in line for line in lines) == 1


def test_a_planted_link_at_the_temp_name_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    path = tmp_path / "nbu_push.prom"
    (tmp_path / f".nbu_push.prom.{os.getpid()}.tmp").symlink_to(target)
    write_atomic(str(path), [b"nbu_x 1\n"], 0o644)
    assert target.read_text() == "precious\n"
    assert path.read_bytes() == b"nbu_x 1\n" and not path.is_symlink()


def test_one_bad_family_in_the_previous_file_keeps_the_others():
    previous = (b"# HELP nbu_a a\n# TYPE nbu_a gauge\nnbu_a 1\n"
                b"# HELP nbu_b b\n# TYPE nbu_b gauge\nnbu_b{x=\"} not parseable\n"
                b"# HELP nbu_c c\n# TYPE nbu_c gauge\nnbu_c 3\n")
    text = b"".join(merged(previous, [b"# HELP nbu_a a\n# TYPE nbu_a gauge\nnbu_a 2\n"])).decode()
    assert "nbu_a 2" in text and "nbu_c 3" in text and "nbu_b" not in text


def test_sigterm_during_a_retry_after_wait_ends_the_run_at_once(fault_server, tmp_path):
    import signal
    import subprocess
    import sys

    primary = fault_server(lambda h: h.reply(503, b'{"errorCode": 503, "errorMessage": "busy"}',
                                             {"Retry-After": "25"}))
    proc = subprocess.Popen([sys.executable, "-m", "nbu_push", "--dry-run"], env=clean_env(
        NBU_URL=primary.url + "/netbackup", NBU_API_KEY="k", NBU_API_VERSION="14.0",
        NBU_DEADLINE="2m"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    assert time.monotonic() - began < 5


def test_two_sites_that_look_alike_get_their_own_lock_and_state():
    from nbu_push.runtime.lock import default_lock_path
    from nbu_push.state import default_path

    assert default_lock_path("a/b") != default_lock_path("a_b")
    env = {"STATE_DIRECTORY": "/s"}
    assert default_path("a/b", env) != default_path("a_b", env)
    assert default_path("plain", env) == "/s/plain.json"


def test_dry_run_into_a_closed_pipe_is_no_internal_error(simulator):
    import subprocess
    import sys

    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    writer = subprocess.run([sys.executable, "-m", "nbu_push", "--dry-run"],
                            env=sim_env(simulator), stdout=reader.stdin,
                            stderr=subprocess.PIPE, text=True, timeout=60)
    reader.stdin.close()
    reader.wait()
    assert writer.returncode == 0, writer.stderr
    assert "internal error" not in writer.stderr and "Traceback" not in writer.stderr


def test_plain_http_to_a_remote_primary_is_warned():
    """Only the decision is testable here (every test host is a loopback address): a remote
    http primary is warned about, a loopback one (the demo) is not."""
    from nbu_push.run import _loopback

    assert _loopback("http://127.0.0.1:1556/netbackup") and _loopback("http://[::1]:1/x")
    assert _loopback("http://localhost:1556/netbackup")
    assert not _loopback("http://nbu.example.com:1556/netbackup")
    assert not _loopback("http://10.1.2.3:1556/netbackup")


def test_a_gateway_echoing_basic_credentials_has_them_redacted(fault_server, simulator):
    import base64

    def echo(handler) -> None:
        handler.reply(400, ("bad request, you sent " + handler.headers["Authorization"]).encode())

    gateway = fault_server(echo)
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url,
                                  PUSHGATEWAY_USERNAME="nbu", PUSHGATEWAY_PASSWORD="pg-Sekret-9"))
    assert result.code == 1 and "HTTP 400" in result.stderr
    assert base64.b64encode(b"nbu:pg-Sekret-9").decode() not in result.stderr
    assert "<redacted>" in result.stderr


def test_a_short_secret_is_redacted_only_as_a_whole_word(caplog):
    import logging

    from nbu_push.runtime.logs import RedactingFilter

    record = logging.LogRecord("t", logging.INFO, "", 0, "tab ab cab (ab) and 'ab'", None, None)
    RedactingFilter(["ab", "a-long-secret-9"]).filter(record)
    assert record.getMessage() == "tab <redacted> cab (<redacted>) and '<redacted>'"


def test_a_full_cursor_page_without_pagination_is_the_last(requests_mock):
    """Trusted, and said in docs/reliability.md: the contract has no total to check."""
    from nbu_push.netbackup.jobs import decode_jobs_page

    requests_mock.get(BASE + "/admin/jobs", json={"data": [{"attributes": {}}] * 100})
    pages = list(cursor_pages(client(), "/admin/jobs", {}, decode_jobs_page,
                              CollectorStats(), 10))
    assert len(pages) == 1 and requests_mock.call_count == 1
