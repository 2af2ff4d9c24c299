"""The shared retry loop, the secret-scrubbing log filter and proxy handling."""

from __future__ import annotations

import io
import json
import logging

import pytest

from nbu_push.netbackup.client import NetBackupClient
from nbu_push.runtime.deadline import Deadline
from nbu_push.runtime.errors import ApiUnavailable
from nbu_push.runtime.logs import JsonFormatter, RedactingFilter, add_secrets
from nbu_push.runtime.retry import Backoff, Retry, with_retries


def failing(times: int, retry_after: float | None = None):
    calls = {"n": 0}

    def attempt() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise Retry(ApiUnavailable("busy"), retry_after)
        return "ok"

    return attempt, calls


def test_backoff_is_bounded_and_jittered():
    waits: list[float] = []
    attempt, calls = failing(2)
    assert with_retries(attempt, Backoff(attempts=3, base=1.0, cap=1.5), Deadline(None),
                        sleep=waits.append) == "ok"
    assert calls["n"] == 3
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 1.5


def test_retry_after_sets_the_wait():
    waits: list[float] = []
    attempt, _ = failing(1, retry_after=4.0)
    with_retries(attempt, Backoff(attempts=2, base=0.1, cap=10), Deadline(None),
                 sleep=waits.append)
    assert waits == [4.0]


def test_no_wait_past_the_deadline():
    waits: list[float] = []
    attempt, calls = failing(1, retry_after=30.0)
    with pytest.raises(ApiUnavailable):
        with_retries(attempt, Backoff(attempts=3), Deadline(5.0), sleep=waits.append)
    assert waits == [] and calls["n"] == 1


def test_the_last_failure_is_raised_when_attempts_run_out():
    attempt, calls = failing(5)
    with pytest.raises(ApiUnavailable, match="busy"):
        with_retries(attempt, Backoff(attempts=3, base=0.0), Deadline(None), sleep=lambda s: None)
    assert calls["n"] == 3


def test_secrets_are_scrubbed_from_every_line_including_late_tokens():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(["api-key-123"]))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        add_secrets(["token-456"])  # learnt after setup, like a login token
        logging.getLogger("t").error("key %s token %s", "api-key-123", "token-456")
    finally:
        root.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "key <redacted> token <redacted>"


def test_proxies_come_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "")
    client = NetBackupClient("https://nbu.example.com:1556/netbackup")
    assert client.session.proxies["https"] == "http://proxy.example.com:3128"
    assert client.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "nbu.example.com")
    assert "https" not in NetBackupClient("https://nbu.example.com:1556/netbackup").session.proxies
