"""The HTTP contract with requests-mock: headers, retries, errors, versions, login."""

from __future__ import annotations

import pytest
import requests

from nbu_push import __version__
from nbu_push.netbackup.auth import Credentials
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.netbackup.session import close_session, open_session
from nbu_push.netbackup.version import best_known
from nbu_push.runtime.errors import (
    EXIT_TEMPFAIL,
    ApiError,
    ApiUnavailable,
    AuthError,
)
from nbu_push.runtime.retry import Backoff, parse_retry_after

BASE = "https://nbu.example.com:1556/netbackup"
KEY = "A1b2C3-secret-api-key"
NO_WAIT = Backoff(attempts=3, base=0.0, cap=0.0)
MEDIA = "application/vnd.netbackup+json;version={}"


def client(**kwargs) -> NetBackupClient:
    nbu = NetBackupClient(BASE, backoff=NO_WAIT, **kwargs)
    nbu.set_credential(KEY)
    nbu.api_version = "12.0"
    return nbu


def test_media_type_and_raw_api_key_on_every_request(requests_mock):
    requests_mock.get(BASE + "/admin/jobs", json={"data": []})
    client().request("GET", "/admin/jobs", query="page%5Blimit%5D=1")
    sent = requests_mock.last_request
    assert sent.headers["Accept"] == "application/vnd.netbackup+json;version=12.0"
    assert sent.headers["Authorization"] == KEY
    assert sent.url == BASE + "/admin/jobs?page%5Blimit%5D=1"


def test_a_request_made_from_a_template_is_what_requests_would_send(requests_mock):
    """GETs are copied from a template per headers and credential (netbackup/client.py):
    each must carry what `Session.request` would have sent; a new credential, and cookies
    the server sets, are on the very next request."""
    query = "filter=endTime%20ge%202026-01-01T00%3A00%3A00.000Z&page%5Bafter%5D=c%2F1"
    requests_mock.get(BASE + "/admin/jobs", json={"data": []})
    nbu = client()
    sent = []
    for version in ("12.0", "12.0", "13.0"):
        nbu.api_version = version
        nbu.request("GET", "/admin/jobs", query=query)
        sent.append(requests_mock.last_request)
    nbu.set_credential("another-key")
    nbu.request("GET", "/admin/jobs", query=query, media_type=False)
    sent.append(requests_mock.last_request)
    oracle = requests.Session()  # what requests itself prepares, from scratch
    oracle.headers["User-Agent"] = oracle.headers["X-Client-ID"] = f"nbu-push/{__version__}"
    expected_headers = [(MEDIA.format("12.0"), KEY), (MEDIA.format("12.0"), KEY),
                        (MEDIA.format("13.0"), KEY), (None, "another-key")]
    for request, (accept, key) in zip(sent, expected_headers, strict=True):
        expected = oracle.prepare_request(requests.Request(
            "GET", f"{BASE}/admin/jobs?{query}", headers={"Accept": accept, "Authorization": key}))
        assert request.url == expected.url
        assert dict(request.headers) == dict(expected.headers)
    nbu.session.cookies.set("JSESSIONID", "s1")  # as a Set-Cookie of the server would
    nbu.request("GET", "/admin/jobs", query=query, media_type=False)  # a template made before
    assert requests_mock.last_request.headers["Cookie"] == "JSESSIONID=s1"


def test_503_is_retried_until_success(requests_mock):
    requests_mock.get(BASE + "/admin/jobs", [
        {"status_code": 503, "json": {"errorCode": 1, "errorMessage": "The server is busy."}},
        {"status_code": 503, "text": "busy"},
        {"status_code": 200, "json": {"data": [1]}},
    ])
    assert client().request("GET", "/admin/jobs").json() == {"data": [1]}
    assert requests_mock.call_count == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406, 500])
def test_deterministic_errors_are_not_retried(requests_mock, status):
    requests_mock.get(BASE + "/admin/jobs", status_code=status,
                      json={"errorCode": 9401, "errorMessage": "The OData filter criteria is"
                            " invalid.", "errorDetails": ["near endTime"]})
    with pytest.raises(ApiError) as caught:
        client().request("GET", "/admin/jobs")
    assert requests_mock.call_count == 1
    assert caught.value.status == status
    assert "NetBackup error 9401: The OData filter criteria is invalid.: near endTime" in str(
        caught.value)
    assert isinstance(caught.value, AuthError) == (status in (401, 403))


def test_retries_are_bounded_and_end_as_temporary_failure(requests_mock):
    requests_mock.get(BASE + "/admin/jobs", status_code=502, text="<html>bad gateway</html>",
                      headers={"Content-Type": "text/html"})
    with pytest.raises(ApiUnavailable) as caught:
        client().request("GET", "/admin/jobs")
    assert requests_mock.call_count == 3
    assert caught.value.exit_code == EXIT_TEMPFAIL
    assert "non-JSON body (text/html" in str(caught.value)


def test_connection_errors_are_retried(requests_mock):
    requests_mock.get(BASE + "/admin/jobs", [
        {"exc": requests.exceptions.ConnectionError("Connection refused")},
        {"json": {"data": []}},
    ])
    assert client().request("GET", "/admin/jobs").json() == {"data": []}
    assert requests_mock.call_count == 2


def test_malformed_json_is_an_api_error_without_the_key(requests_mock):
    requests_mock.post(BASE + "/admin/jobs-count-requests", text='{"data": [')
    with pytest.raises(ApiError) as caught:
        client().post_json("/admin/jobs-count-requests", {"data": {}})
    assert "malformed JSON" in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in repr(client())


def test_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("2026-01-01T00:00:10Z", now=lambda: 1767225600.0) == 10.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:05 GMT", now=lambda: 1767225600.0) == 5.0
    assert parse_retry_after("soon") is None


def test_best_known_version():
    assert best_known("14.0") == "14.0"
    assert best_known("13.5") == "13.0"
    assert best_known("99.0") == "14.0"
    assert best_known("9.0") is None
    assert best_known("junk") is None


def fresh() -> NetBackupClient:
    return NetBackupClient(BASE, backoff=NO_WAIT)


def test_version_from_ping_header(requests_mock):
    requests_mock.get(BASE + "/ping", text="1767225600000",
                      headers={"X-NetBackup-API-Version": "13.0"})
    nbu = fresh()
    open_session(nbu, Credentials(api_key=KEY))
    assert nbu.api_version == "13.0"
    assert "Authorization" not in requests_mock.last_request.headers  # ping needs none


def test_version_ladder_moves_down_on_406(requests_mock):
    requests_mock.get(BASE + "/ping", status_code=404)

    def jobs(request, context):
        accepted = request.headers["Accept"].endswith("version=12.0")
        context.status_code = 200 if accepted else 406
        return {"data": []} if accepted else {"errorCode": 406, "errorMessage": "Invalid"}

    requests_mock.get(BASE + "/admin/jobs", json=jobs)
    nbu = fresh()
    open_session(nbu, Credentials(api_key=KEY))
    assert nbu.api_version == "12.0"
    tried = [r.headers["Accept"].rsplit("=", 1)[1] for r in requests_mock.request_history
             if r.path.endswith("/admin/jobs")]
    assert tried == ["14.0", "13.0", "12.0"]


def test_version_ladder_stops_at_once_on_401(requests_mock):
    requests_mock.get(BASE + "/ping", status_code=406)
    requests_mock.get(BASE + "/admin/jobs", status_code=401, json={"errorCode": 1,
                                                                   "errorMessage": "no"})
    with pytest.raises(AuthError):
        open_session(fresh(), Credentials(api_key=KEY))
    assert sum(r.path.endswith("/admin/jobs") for r in requests_mock.request_history) == 1


def test_every_version_refused_is_an_api_error(requests_mock):
    requests_mock.get(BASE + "/ping", status_code=406)
    requests_mock.get(BASE + "/admin/jobs", status_code=406, json={})
    with pytest.raises(ApiError, match=r"14\.0, 13\.0, 12\.0, 11\.0, 10\.0"):
        open_session(fresh(), Credentials(api_key=KEY))


def test_unreachable_server_does_not_walk_the_ladder(requests_mock):
    requests_mock.get(BASE + "/ping", exc=requests.exceptions.ConnectTimeout)
    with pytest.raises(ApiUnavailable, match="connect timeout"):
        open_session(fresh(), Credentials(api_key=KEY))
    assert requests_mock.call_count == 3  # the ping's retries, nothing else


def test_pinned_version_skips_negotiation(requests_mock):
    nbu = fresh()
    open_session(nbu, Credentials(api_key=KEY), pinned_version="11.0")
    assert nbu.api_version == "11.0" and requests_mock.call_count == 0


def test_login_token_is_used_raw_and_released(requests_mock):
    requests_mock.get(BASE + "/ping", headers={"X-NetBackup-API-Version": "14.0"})
    requests_mock.post(BASE + "/login", status_code=201,
                       json={"token": "jwt-token-xyz", "tokenType": "BEARER", "validity": 60})
    requests_mock.post(BASE + "/logout", status_code=204)
    requests_mock.get(BASE + "/admin/jobs", json={"data": []})
    nbu = fresh()
    creds = Credentials(username="monitor", password="pw-secret", domain_type="vx",
                        domain_name="vrts.apikey")
    logged_in = open_session(nbu, creds)
    login = requests_mock.request_history[1]
    assert login.json() == {"userName": "monitor", "password": "pw-secret",
                            "domainType": "vx", "domainName": "vrts.apikey"}
    assert login.headers["Content-Type"] == "application/vnd.netbackup+json;version=14.0"
    nbu.request("GET", "/admin/jobs")
    assert requests_mock.last_request.headers["Authorization"] == "jwt-token-xyz"
    close_session(nbu, logged_in)
    assert requests_mock.last_request.path.endswith("/logout")
    assert "pw-secret" not in repr(creds)


def test_login_walks_the_version_ladder_without_ping(requests_mock):
    requests_mock.get(BASE + "/ping", status_code=404)

    def login(request, context):
        served = request.headers["Content-Type"].endswith("version=12.0")
        context.status_code = 201 if served else 406
        return {"token": "t-12", "tokenType": "BEARER", "validity": 60} if served else {}

    requests_mock.post(BASE + "/login", json=login)
    nbu = fresh()
    assert open_session(nbu, Credentials(username="u", password="p")) is True
    assert nbu.api_version == "12.0" and nbu.has_credential
    logins = [r for r in requests_mock.request_history if r.path.endswith("/login")]
    assert [r.headers["Accept"].rsplit("=", 1)[1] for r in logins] == ["14.0", "13.0", "12.0"]


def test_wrong_password_stops_the_login_ladder(requests_mock):
    requests_mock.get(BASE + "/ping", status_code=404)
    requests_mock.post(BASE + "/login", status_code=401, json={
        "errorCode": 1, "errorMessage": "The user name, password or API Key is wrong."})
    with pytest.raises(AuthError, match="password or API Key is wrong"):
        open_session(fresh(), Credentials(username="u", password="pw-secret-9"))
    assert requests_mock.call_count == 2  # ping, one login: a lockout-friendly failure
