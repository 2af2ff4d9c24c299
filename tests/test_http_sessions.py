"""HTTP sessions: credentials only as configured (never from ~/.netrc), one timeout."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from nbu_push.config import PushgatewaySettings, settings_from
from nbu_push.runtime.errors import EXIT_TEMPFAIL

from .cli import clean_env, nbu_push


class RecordingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    authorizations: list[str | None]


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: RecordingServer

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.authorizations.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.1", 0), _Recorder)
    server.authorizations = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_netrc_cannot_replace_a_configured_token(recorder, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    gateway = PushgatewaySettings(url=f"http://127.0.0.1:{recorder.server_port}",
                                  job="nbu-push", token="configured-token")
    gateway.sink("site-a").publish(lambda: [b"nbu_x 1\n"], complete=True)
    assert recorder.authorizations == ["Bearer configured-token"]


def test_netrc_is_not_used_without_credentials_either(recorder, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    gateway = PushgatewaySettings(url=f"http://127.0.0.1:{recorder.server_port}", job="j")
    gateway.sink("site-a").publish(lambda: [b"nbu_x 1\n"], complete=True)
    assert recorder.authorizations == [None]


def test_delete_honours_the_timeout():
    """A gateway that accepts and never answers: --timeout 1s ends the delete in seconds."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        began = time.monotonic()
        result = nbu_push("--delete", "--pushgateway", url, "--site", "retired",
                          "--timeout", "1s", env=clean_env(), timeout=25)
    assert result.code == EXIT_TEMPFAIL, result.stderr
    assert time.monotonic() - began < 15


def test_the_pushgateway_timeout_is_nbu_timeout():
    settings = settings_from({"url": "nbu", "api_key": "k", "pushgateway": "pg:9091",
                              "timeout": "7s"})
    assert settings.pushgateway is not None and settings.pushgateway.timeout == 7.0
