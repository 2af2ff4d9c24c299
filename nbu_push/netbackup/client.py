"""The HTTP session to one NetBackup primary server.

One `requests.Session` per run, a connection pool as large as the concurrency, the media
type and credentials on every request, retries only where a retry can help, and the run
deadline on every wait. The credential never leaves this object: not in logs, errors or repr.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time

import requests
import urllib3

from ..runtime.deadline import Deadline
from ..runtime.errors import ApiError, ApiUnavailable, DeadlineExceeded
from ..runtime.http import USER_AGENT, HeaderAuth, new_session
from ..runtime.retry import Backoff, Retry, parse_retry_after, with_retries
from ..runtime.stats import CollectorStats
from .responses import RETRYABLE_STATUS, describe_transport_error, error_for_response

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.netbackup+json;version={}"
TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class NetBackupClient:
    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        pool_size: int = 10,
        backoff: Backoff | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.deadline = deadline or Deadline(None)
        self.api_version: str | None = None
        self._auth: HeaderAuth | None = None
        self.verify = verify  # passed per request: a session default loses to REQUESTS_CA_BUNDLE
        self.session = new_session(self.base_url, pool_size)
        self.session.headers["X-Client-ID"] = USER_AGENT
        self._server_clock: tuple[float, float] | None = None  # (Date, monotonic at receipt)
        self._date_header: str | None = None  # the last Date header read into the clock
        self._templates: dict[tuple, requests.PreparedRequest] = {}  # see _prepare

    def __repr__(self) -> str:
        return f"NetBackupClient({self.base_url!r}, api_version={self.api_version!r})"

    def set_credential(self, credential: str | None) -> None:
        """The API key or login token, sent as is in `Authorization` (no `Bearer`)."""
        self._auth = HeaderAuth(credential) if credential else None
        self._templates.clear()  # no request is prepared with a credential no longer ours

    @property
    def has_credential(self) -> bool:
        return self._auth is not None

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str | None = None,
        body: object = None,
        version: str | None = None,
        media_type: bool = True,
        authenticated: bool = True,
        stats: CollectorStats | None = None,
        retry: bool = True,
    ) -> requests.Response:
        """Send one request (with retries); return a 2xx/3xx response or raise ApiError."""
        url = self.base_url + path + (f"?{query}" if query else "")
        version = version or self.api_version
        headers: dict[str, str | None] = {"Accept": None}
        if media_type and version:
            headers["Accept"] = MEDIA_TYPE.format(version)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = MEDIA_TYPE.format(version)
        auth = self._auth if authenticated else None

        def attempt() -> requests.Response:
            self.deadline.check(f"{method} {path}")
            if stats is not None:
                stats.add(requests=1)
            try:
                response = self.session.send(
                    self._prepare(method, url, data, headers, auth), verify=self.verify,
                    timeout=self.deadline.cap(self.timeout), allow_redirects=False, stream=True,
                    proxies=self.session.proxies)
                received = _read_body(response)  # here: a broken body is a transport error
            except requests.exceptions.SSLError as exc:
                raise ApiError(f"{method} {path}: {describe_transport_error(exc)}") from None
            except TRANSPORT_ERRORS as exc:
                if self.deadline.expired():  # the timeout was the deadline's, not the server's
                    reason = self.deadline.cancelled or "run deadline reached"
                    raise DeadlineExceeded(f"{method} {path}: {reason}") from None
                unreachable = ApiUnavailable(f"{method} {path}: {describe_transport_error(exc)}")
                if not retry:
                    raise unreachable from None
                raise Retry(unreachable) from None
            except requests.exceptions.RequestException as exc:  # e.g. an invalid gzip body
                raise ApiError(f"{method} {path}: {describe_transport_error(exc)}") from None
            self._observe_date(response.headers.get("Date"))
            if stats is not None:
                stats.add(bytes_received=received)
            if 300 <= response.status_code < 400:  # never follow: the key must stay here
                raise ApiError(f"{method} {path}: HTTP {response.status_code}: redirected to"
                               f" {response.headers.get('Location', '?')}; set NBU_URL to the"
                               " address that answers", response.status_code)
            if response.status_code < 400:
                return response
            error = error_for_response(method, path, response)
            if retry and response.status_code in RETRYABLE_STATUS:
                log.debug("%s %s: HTTP %s, will retry", method, path, response.status_code)
                raise Retry(error, parse_retry_after(response.headers.get("Retry-After")))
            raise error

        return with_retries(attempt, self.backoff, self.deadline)

    def _prepare(self, method: str, url: str, data: bytes | None,
                 headers: dict[str, str | None], auth: HeaderAuth | None
                 ) -> requests.PreparedRequest:
        """The request as `Session.request` prepares it (session headers, credential,
        cookies, hooks), from a template made once per method, headers and credential: a
        page then costs a copy and its URL, not requests' whole merge of settings (a third
        of the client's CPU per request). A body, or cookies the server has set, take
        the general way."""
        if data is not None or self.session.cookies:
            return self.session.prepare_request(requests.Request(
                method, url, data=data, headers=headers, auth=auth))
        key = (method, tuple(headers.items()), auth)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self.session.prepare_request(
                requests.Request(method, self.base_url, headers=headers, auth=auth))
        prepared = template.copy()
        prepared.prepare_url(url, None)
        return prepared

    def _observe_date(self, header: str | None) -> None:
        """Keep the primary's clock from a `Date` header; the same header again (the same
        second) is not parsed again, and its first receipt is the better bound."""
        if not header or header == self._date_header:
            return
        self._date_header = header
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        if when.tzinfo is not None:
            self._server_clock = (when.timestamp(), time.monotonic())

    def server_now(self) -> float | None:
        """The primary's own clock (its last `Date` header, advanced by the local monotonic
        clock since), or None when it sent none. `Date` has whole seconds, so this is at most
        one second behind the server: a boundary taken from it is never ahead of the server."""
        if self._server_clock is None:
            return None
        server, received = self._server_clock
        return server + (time.monotonic() - received)

    def post_json(self, path: str, body: object, **kwargs) -> dict:
        """POST a JSON body; the answer must be a JSON object (list pages go through
        netbackup/decoding.py instead)."""
        response = self.request("POST", path, body=body, **kwargs)
        return decode_object(response, f"POST {path}")


def _read_body(response: requests.Response) -> int:
    """Read the body in one call (requests' `.content` reads 10 KB chunks, the largest cost
    of a page after decoding), keep it as `.content`, give the connection back."""
    try:  # raw.read raises urllib3's errors: translate them as requests' .content would
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    response._content = body  # what `.content`, `.text` and `.json()` return from now on
    response._content_consumed = True  # type: ignore[attr-defined]  # requests keeps no API
    response.close()  # the body is read: this returns the connection to the pool
    return len(body)


def decode_object(response: requests.Response, what: str) -> dict:
    try:
        document = json.loads(response.content)
    except ValueError:
        raise ApiError(
            f"{what}: malformed JSON in a {response.status_code} response", response.status_code
        ) from None
    if not isinstance(document, dict):
        raise ApiError(f"{what}: expected a JSON object", response.status_code)
    return document
