"""Settings validation: each problem is a ConfigError naming the setting."""

from __future__ import annotations

import pytest

from nbu_push.config import netbackup_url, parse_duration, settings_from
from nbu_push.runtime.errors import ConfigError


def raw(**overrides):
    values = {"url": "nbu-primary.example.com", "api_key": "k", "dry_run": True}
    values.update(overrides)
    return values


@pytest.mark.parametrize("value,expected", [
    ("nbu", "https://nbu:1556/netbackup"),
    ("nbu:8443", "https://nbu:8443/netbackup"),
    ("https://nbu.example.com", "https://nbu.example.com:1556/netbackup"),
    ("https://nbu:1556/netbackup/", "https://nbu:1556/netbackup"),
    ("http://127.0.0.1:8080/netbackup", "http://127.0.0.1:8080/netbackup"),
    ("[::1]:1556", "https://[::1]:1556/netbackup"),
])
def test_netbackup_url_forms(value, expected):
    assert netbackup_url(value)[0] == expected


@pytest.mark.parametrize("value,seconds", [("90", 90), ("30s", 30), ("15m", 900),
                                           ("1h", 3600), ("1d", 86400), ("1.5h", 5400)])
def test_durations(value, seconds):
    assert parse_duration(value, "X") == seconds


@pytest.mark.parametrize("overrides,setting", [
    ({"url": None}, "NBU_URL"),
    ({"url": "ftp://nbu"}, "NBU_URL"),
    ({"url": "https://nbu:99999"}, "NBU_URL"),
    ({"url": "https://user:pw@nbu"}, "NBU_URL"),
    ({"api_key": None}, "credentials"),
    ({"api_key_file": "/nonexistent/key"}, "NBU_API_KEY"),
    ({"api_key": None, "api_key_file": "/nonexistent/key"}, "NBU_API_KEY_FILE"),
    ({"api_key": None, "username": "u"}, "NBU_PASSWORD"),
    ({"username": "u", "password": "p"}, "NBU_USERNAME"),
    ({"job_window": "an hour"}, "NBU_JOB_WINDOW"),
    ({"job_window": "0s"}, "NBU_JOB_WINDOW"),
    ({"timeout": "-1"}, "NBU_TIMEOUT"),
    ({"concurrency": "0"}, "NBU_CONCURRENCY"),
    ({"concurrency": "many"}, "NBU_CONCURRENCY"),
    ({"api_version": "latest"}, "NBU_API_VERSION"),
    ({"ca_bundle": "/nonexistent.pem"}, "NBU_CA_BUNDLE"),
    ({"ca_bundle": "/etc/hostname", "insecure": True}, "NBU_CA_BUNDLE"),
    ({"dry_run": False}, "no output"),
    ({"textfile": "/nonexistent-dir/nbu.prom"}, "NBU_PUSH_TEXTFILE"),
    ({"textfile": "/tmp/nbu.txt"}, "NBU_PUSH_TEXTFILE"),
    ({"api_key": "two words"}, "NBU_API_KEY"),
    ({"api_key": "key\r\nX-Injected: 1"}, "NBU_API_KEY"),
    ({"pushgateway": "pg:9091", "pushgateway_token": "tok\nen"}, "PUSHGATEWAY_TOKEN"),
    ({"pushgateway": "ftp://pg"}, "PUSHGATEWAY_URL"),
    ({"pushgateway": "http://user:secret@pg:9091"}, "PUSHGATEWAY_URL"),
    ({"pushgateway": "pg:9091", "pushgateway_username": "u"}, "PUSHGATEWAY_USERNAME"),
    ({"pushgateway": "pg:9091", "pushgateway_username": "u", "pushgateway_password": "p",
      "pushgateway_token": "t"}, "PUSHGATEWAY_TOKEN"),
    ({"tape_media_interval": "hourly"}, "NBU_TAPE_MEDIA_INTERVAL"),
    ({"tape_media_interval": "30d"}, "NBU_TAPE_MEDIA_INTERVAL"),
    ({"remote_write": "ftp://mimir/api/v1/push"}, "NBU_REMOTE_WRITE_URL"),
    ({"remote_write": "http://mimir", "remote_write_username": "u"},
     "NBU_REMOTE_WRITE_PASSWORD_FILE"),
    ({"remote_write": "http://mimir", "remote_write_password_file": "/etc/hostname"},
     "NBU_REMOTE_WRITE_USERNAME"),
    ({"remote_write": "http://mimir", "remote_write_username": "u",
      "remote_write_password_file": "/etc/hostname",
      "remote_write_bearer_token_file": "/etc/hostname"}, "NBU_REMOTE_WRITE_BEARER_TOKEN_FILE"),
    ({"remote_write": "http://mimir", "remote_write_bearer_token_file": "/nonexistent/token"},
     "NBU_REMOTE_WRITE_BEARER_TOKEN_FILE"),
    ({"remote_write": "http://mimir", "remote_write_ca_bundle": "/nonexistent.pem"},
     "NBU_REMOTE_WRITE_CA_BUNDLE"),
])
def test_bad_settings_name_the_setting(overrides, setting):
    with pytest.raises(ConfigError, match=setting):
        settings_from(raw(**overrides))


def test_defaults(monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    settings = settings_from(raw(pushgateway="pg.example.com:9091"))
    assert settings.site == "nbu-primary.example.com"
    assert settings.verify is True
    assert settings.job_window == 3600
    assert settings.pushgateway.url == "http://pg.example.com:9091"
    assert settings.pushgateway.job == "nbu-push"


def test_key_file_is_read_and_stripped(tmp_path):
    key = tmp_path / "key"
    key.write_text("secret-from-file\n")
    settings = settings_from(raw(api_key=None, api_key_file=str(key)))
    assert settings.credentials.api_key == "secret-from-file"
    assert "secret-from-file" not in repr(settings)


def test_verification_defaults_to_the_environments_bundle(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert settings_from(raw()).verify == "/etc/ssl/certs/ca-certificates.crt"
    assert settings_from(raw(insecure=True)).verify is False


def test_a_bad_key_is_refused_without_quoting_it():
    with pytest.raises(ConfigError) as caught:
        settings_from(raw(api_key="secret-part\nrest"))
    assert "secret-part" not in str(caught.value)
    assert settings_from(raw(api_key="  key-with-blanks-around \n")).credentials.api_key == (
        "key-with-blanks-around")
