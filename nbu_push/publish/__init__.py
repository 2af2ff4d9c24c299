"""Sinks: each streams the same bytes.

A `Payload` writes the exposition anew each time it is called, in chunks of whole lines, so
a sink that writes it as it comes (stdout, the textfile) never holds the whole text (2.4 MB
at 17,000 series); every call yields the same bytes. The Pushgateway joins it first (see
there).

`complete=True` (every collector succeeded) replaces everything published before;
`complete=False` replaces only the metric families in the payload and keeps the rest, so
the last good data and the last-success timestamp survive a failed run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

Payload = Callable[[], Iterable[bytes]]


class Sink(Protocol):
    name: str

    def publish(self, payload: Payload, complete: bool) -> None: ...
