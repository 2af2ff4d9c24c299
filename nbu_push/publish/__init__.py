"""Sinks: each takes the same serialized bytes.

`complete=True` (every collector succeeded) replaces everything published before;
`complete=False` replaces only the metric families in the payload and keeps the rest, so
the last good data and the last-success timestamp survive a failed run.
"""

from __future__ import annotations

from typing import Protocol


class Sink(Protocol):
    name: str

    def publish(self, payload: bytes, complete: bool) -> None: ...
