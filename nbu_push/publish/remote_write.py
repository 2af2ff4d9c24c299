"""Prometheus remote write 1.0: POST the run's samples, each at the run's timestamp, in
requests of at most 2,000 series, to Prometheus, Mimir, Thanos Receive, Cortex or
VictoriaMetrics.

A series the previous run wrote and this one does not gets a staleness marker, so that it
leaves queries at once instead of lingering five minutes; what was written is kept in the
run state (one row per series: it grows with the series published, never with jobs). The
series of a collector that failed this run (`keep`: its families, and the last-success
timestamp after a failed run) are sent again as they were, as a Pushgateway keeps serving
them; those of a collector switched off are marked stale. 5xx and 429 are retried with backoff
inside the deadline; any other answer is one error line. A request that fails after others
went through says how many did.
"""

from __future__ import annotations

import math
from typing import Any

from requests.auth import AuthBase

from ..runtime.deadline import Deadline
from ..runtime.errors import PublishError, PublishUnavailable
from ..runtime.http import new_session
from ..runtime.retry import Backoff
from . import Payload
from .answers import send_checked
from .write_request import STALE_NAN, Labels, compress, series_of, write_requests

HEADERS = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
           "X-Prometheus-Remote-Write-Version": "0.1.0"}


def _decoded(rows: object) -> dict[Labels, float]:
    """The series a previous run wrote and their values (`[[value, name, text, name, text,
    …], …]`); a damaged part of the state reads as none: at worst a removed series lingers
    five minutes."""
    found: dict[Labels, float] = {}
    for row in rows if isinstance(rows, list) else []:
        if (isinstance(row, list) and len(row) % 2 == 1 and isinstance(row[0], (int, float))
                and all(isinstance(x, str) for x in row[1:])):
            found[tuple(zip(row[1::2], row[2::2], strict=True))] = float(row[0])
    return found


def _encoded(series: dict[Labels, float]) -> list[list[Any]]:
    """As _decoded reads them; a value JSON cannot hold (NaN, ±Inf) is kept as 0: it is
    only ever re-sent for a failed collector, and marks nothing."""
    return [[value if math.isfinite(value) else 0, *(text for pair in labels for text in pair)]
            for labels, value in sorted(series.items())]


class RemoteWriteSink:
    name = "remote_write"

    def __init__(self, url: str, auth: AuthBase | None, verify: bool | str, timeout: float,
                 deadline: Deadline | None, timestamp_ms: int, kept: dict[str, Any],
                 keep: frozenset[str] = frozenset(), backoff: Backoff | None = None) -> None:
        self.url = url
        self.verify = verify  # passed per request, as for the Pushgateway
        self.timeout = timeout
        self.deadline = deadline or Deadline(None)
        self.timestamp_ms = timestamp_ms
        self.kept = kept  # the run state's part for outputs: this sink's entry is its own
        self.keep = keep  # metric names whose series stay (a failed collector's)
        self.backoff = backoff or Backoff()
        self.session = new_session(url, auth=auth)

    def publish(self, payload: Payload, complete: bool) -> None:
        samples = series_of(b"".join(payload()))
        previous = _decoded(self.kept.get(self.name))
        gone = {labels: value for labels, value in previous.items() if labels not in samples}
        carried = {labels: value for labels, value in gone.items()
                   if dict(labels)["__name__"] in self.keep}  # re-sent as they were
        written_now = {**samples, **carried}
        bodies = list(write_requests([*written_now.items(), *(
            (labels, STALE_NAN) for labels in sorted(gone.keys() - carried.keys()))],
            self.timestamp_ms))
        written = 0
        try:
            for body in bodies:
                self._post(body)
                written += 1
        except (PublishError, PublishUnavailable) as exc:
            # what may now be in the store: mark it stale next time if it is gone then
            self.kept[self.name] = _encoded({**previous, **written_now})
            if written:
                raise type(exc)(f"{exc} ({written} of {len(bodies)} requests were written"
                                " before)") from None
            raise
        self.kept[self.name] = _encoded(written_now)

    def probe(self) -> None:
        """An empty WriteRequest: the endpoint, its credentials and TLS, no data written."""
        self._post(compress(b""))

    def _post(self, body: bytes) -> None:
        send_checked(lambda: self.session.post(
            self.url, data=body, headers=HEADERS, verify=self.verify, allow_redirects=False,
            timeout=self.deadline.cap(self.timeout)),
            f"remote write {self.url}", "NBU_REMOTE_WRITE_URL", self.backoff, self.deadline)
