"""Per-collector counters, updated from several threads and read by the progress display."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


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
    cpu_seconds: float = 0.0  # CPU time of the collector's thread and of its workers'
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **increments: float) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def on_cpu(self, work: Callable[P, R]) -> Callable[P, R]:
        """`work`, adding the CPU time of the thread that runs it to `cpu_seconds`: a
        collector's worker threads (slices, lookups, counts) count as the collector's."""
        @functools.wraps(work)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            began = time.thread_time()
            try:
                return work(*args, **kwargs)
            finally:
                self.add(cpu_seconds=time.thread_time() - began)
        return counted
