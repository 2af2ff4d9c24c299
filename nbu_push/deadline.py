"""A monotonic run deadline shared by every collector, retry loop and sink."""

from __future__ import annotations

import time


class Deadline:
    def __init__(self, seconds: float | None, clock=time.monotonic) -> None:
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None when there is no deadline."""
        if self._end is None:
            return None
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def cap(self, timeout: float) -> float:
        """`timeout`, shortened so that a request never outlives the deadline."""
        remaining = self.remaining()
        return timeout if remaining is None else max(0.001, min(timeout, remaining))
