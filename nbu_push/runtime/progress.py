"""Live progress on an interactive stderr: pages and records per collector."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping

from .stats import CollectorStats


class Progress:
    """Redraws one stderr line every `interval` seconds; does nothing unless stderr is a TTY."""

    def __init__(self, stats: Mapping[str, CollectorStats], interval: float = 0.2,
                 stream=None) -> None:
        self.stats = stats
        self.interval = interval
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def line(self) -> str:
        return " | ".join(f"{name}: {s.pages} pages, {s.records} records"
                          for name, s in self.stats.items())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()
