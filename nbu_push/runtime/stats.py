"""Per-collector counters, updated from several threads and read by the progress display."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class CollectorStats:
    requests: int = 0
    pages: int = 0
    records: int = 0
    skipped: int = 0
    bytes_received: int = 0
    values_skipped: int = 0  # values present but unusable (beyond int64, negative); the
    # record still counts, without that value
    page_cap_hits: int = 0  # cursor chains or offset loops stopped by NBU_MAX_PAGES
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)
