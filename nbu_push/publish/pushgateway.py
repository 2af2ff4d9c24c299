"""Pushgateway: PUT the whole registry; on a partial or failed run, merged with the group.

The body is written whole before its first byte is sent, never streamed: the Pushgateway
stores a push whose body was cut short (a closed connection, chunked or not) as if it were
complete (1.5.1, checked), so a payload that failed half-way would replace the group with
half of it. Job and grouping values go in the URL base64-encoded (`job@base64/...`), which is
valid for any value, `/` and spaces included.
"""

from __future__ import annotations

import base64
import logging

import requests

from ..metrics.text import family_text, merged
from ..runtime.deadline import Deadline
from ..runtime.errors import PublishError, PublishUnavailable
from ..runtime.http import basic_or_bearer, new_session
from ..runtime.retry import Backoff, Retry, with_retries
from . import Payload
from .answers import send_checked

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii") or "="


def group_url(base_url: str, job: str, grouping_key: dict[str, str]) -> str:
    url = base_url.rstrip("/") + "/metrics/job@base64/" + _b64(job)
    for name, value in sorted(grouping_key.items()):
        url += f"/{name}@base64/{_b64(value)}"
    return url


GATEWAY_FAMILIES = ("push_time_seconds", "push_failure_time_seconds")


def group_exposition(groups: list, labels: dict[str, str]) -> bytes:
    """The families of the group with exactly `labels`, from `GET /api/v1/metrics`, as text
    (without the `job` and `instance` labels the gateway adds); empty when there is none. A
    series that cannot be read (no labels object, a value that is not a number) is left out,
    as the merge leaves out a family that does not parse."""
    text = []
    for group in groups:
        if not isinstance(group, dict) or group.get("labels") != labels:
            continue
        for name, family in group.items():
            if name in GATEWAY_FAMILIES or not isinstance(family, dict):
                continue
            metrics = family.get("metrics")
            if not isinstance(metrics, list) or family.get("type") not in ("GAUGE", "COUNTER"):
                continue
            samples = []
            for metric in metrics:
                series = metric.get("labels") if isinstance(metric, dict) else None
                value = _gateway_value(metric.get("value")) if isinstance(metric, dict) else None
                if isinstance(series, dict) and value is not None:
                    samples.append(({k: str(v) for k, v in series.items()
                                     if k not in ("job", "instance")}, value))
            names = sorted({k for series, _ in samples for k in series})
            rows = [([series.get(k, "") for k in names], value) for series, value in samples]
            text.append(family_text(name, str(family.get("help", "")), names, rows,
                                    family["type"] == "COUNTER"))
    return "".join(text).encode()


def _gateway_value(value: object) -> float | None:
    """The gateway writes values as strings ("1.5e+06", "NaN", "+Inf")."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


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
        self.labels = {"job": job, **grouping_key}
        self.timeout = timeout
        self.deadline = deadline or Deadline(None)
        self.backoff = backoff or Backoff()
        self.verify = verify  # passed per request: a session default loses to REQUESTS_CA_BUNDLE
        self.session = new_session(base_url, auth=basic_or_bearer(username, password, token))

    def _send(self, method: str, payload: Payload | None) -> None:
        where = f"Pushgateway {method} {self.base_url}"
        body = None if payload is None else b"".join(payload())  # whole (see above)

        send_checked(lambda: self.session.request(
            method, self.url, data=body, verify=self.verify,
            timeout=self.deadline.cap(self.timeout), allow_redirects=False,
            headers={"Content-Type": CONTENT_TYPE} if payload is not None else {}),
            where, "PUSHGATEWAY_URL", self.backoff, self.deadline)

    def publish(self, payload: Payload, complete: bool) -> None:
        """A complete payload replaces the group. Otherwise the group is read back and the
        families the payload lacks (the failed collectors' last good data) are kept, the
        way the textfile is merged: a POST cannot do it, as a family the payload carries
        without samples (a quiet collector) would leave its old series in place."""
        if complete:
            self._send("PUT", payload)
            return
        try:
            previous = self._group()
        except PublishError as exc:  # e.g. a proxy that forbids the API: merge on the gateway
            log.debug("cannot read the group back (%s); POSTing instead", exc)
            self._send("POST", payload)
            return
        self._send("PUT", lambda: merged(previous, payload()))

    def _group(self) -> bytes:
        """This group's families as the exposition they were pushed in."""
        where = f"Pushgateway GET {self.base_url}/api/v1/metrics"

        def attempt() -> bytes:
            try:
                response = self.session.get(self.base_url.rstrip("/") + "/api/v1/metrics",
                                            verify=self.verify, allow_redirects=False,
                                            timeout=self.deadline.cap(self.timeout))
                document = response.json() if response.status_code == 200 else None
            except requests.exceptions.RequestException as exc:
                raise Retry(PublishUnavailable(f"{where}: {type(exc).__name__}")) from None
            except ValueError:
                raise PublishError(f"{where}: not JSON") from None
            if not isinstance(document, dict) or not isinstance(document.get("data"), list):
                raise PublishError(f"{where}: HTTP {response.status_code}")
            return group_exposition(document["data"], self.labels)

        return with_retries(attempt, self.backoff, self.deadline)

    def delete(self) -> None:
        """Remove the whole group, e.g. when a NetBackup primary is retired."""
        self._send("DELETE", None)
