"""Pushgateway: PUT the whole registry on success, POST the status families otherwise.

The body is sent as given (no second serialization). Job and grouping values go in the
URL base64-encoded (`job@base64/...`), which is valid for any value, `/` and spaces included.
"""

from __future__ import annotations

import base64
import logging

import requests

from ..deadline import Deadline
from ..errors import PublishError, PublishUnavailable
from ..http import basic_or_bearer, new_session
from ..retry import Backoff, Retry, parse_retry_after, with_retries

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii") or "="


def group_url(base_url: str, job: str, grouping_key: dict[str, str]) -> str:
    url = base_url.rstrip("/") + "/metrics/job@base64/" + _b64(job)
    for name, value in sorted(grouping_key.items()):
        url += f"/{name}@base64/{_b64(value)}"
    return url


class PushgatewaySink:
    name = "pushgateway"

    def __init__(
        self,
        base_url: str,
        job: str,
        grouping_key: dict[str, str],
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        deadline: Deadline | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.base_url = base_url
        self.url = group_url(base_url, job, grouping_key)
        self.timeout = timeout
        self.deadline = deadline or Deadline(None)
        self.backoff = backoff or Backoff()
        self.verify = verify  # passed per request: a session default loses to REQUESTS_CA_BUNDLE
        self.session = new_session(base_url, auth=basic_or_bearer(username, password, token))

    def _send(self, method: str, payload: bytes | None) -> None:
        where = f"Pushgateway {method} {self.base_url}"

        def attempt() -> None:
            try:
                response = self.session.request(
                    method, self.url, data=payload, verify=self.verify,
                    timeout=self.deadline.cap(self.timeout), allow_redirects=False,
                    headers={"Content-Type": CONTENT_TYPE} if payload is not None else {},
                )
                reason = " ".join(response.text.split())[:300] or response.reason
            except requests.exceptions.SSLError:
                raise PublishError(f"{where}: TLS verification failed") from None
            except requests.exceptions.RequestException as exc:
                raise Retry(PublishUnavailable(f"{where}: {type(exc).__name__}")) from None
            status = response.status_code
            if status < 300:
                return
            if status < 400:  # a redirected PUT may arrive as a GET without a body: never
                raise PublishError(f"{where}: HTTP {status}: redirected to"
                                   f" {response.headers.get('Location', '?')}; set"
                                   " PUSHGATEWAY_URL to the address that answers")
            error = PublishError(f"{where}: HTTP {status}: {reason}")
            if status >= 500 or status == 429:
                raise Retry(PublishUnavailable(str(error)),
                            parse_retry_after(response.headers.get("Retry-After")))
            raise error

        with_retries(attempt, self.backoff, self.deadline)

    def publish(self, payload: bytes, complete: bool) -> None:
        self._send("PUT" if complete else "POST", payload)

    def delete(self) -> None:
        """Remove the whole group, e.g. when a NetBackup primary is retired."""
        self._send("DELETE", None)
