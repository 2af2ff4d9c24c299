"""A monotonic run deadline shared by every collector, retry loop and sink.

`cancel()` ends it early (SIGTERM, SIGINT): every HTTP call checks it before it starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for

from .errors import DeadlineExceeded


class Deadline:
    def __init__(self, seconds: float | None, clock=time.monotonic) -> None:
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds
        self.cancelled: str | None = None
        self._cancel_event = threading.Event()
        self.interrupted = False  # cancelled by a signal, not by running out of time

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None when there is no deadline."""
        if self.cancelled:
            return 0.0
        if self._end is None:
            return None
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def cancel(self, reason: str, interrupted: bool = False) -> None:
        self.cancelled = reason
        self.interrupted = self.interrupted or interrupted
        self._cancel_event.set()

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once when the run is cancelled (SIGTERM in a Retry-After wait)."""
        self._cancel_event.wait(seconds)

    def check(self, what: str) -> None:
        if self.expired():
            raise DeadlineExceeded(f"{what}: {self.cancelled or 'run deadline reached'}")

    def cap(self, timeout: float) -> float:
        """`timeout`, shortened so that a request never outlives the deadline."""
        remaining = self.remaining()
        return timeout if remaining is None else max(0.001, min(timeout, remaining))


WAKE_SECONDS = 0.25  # how often a wait looks at the deadline (a signal cancels it early)


def wait_within(futures: Iterable[Future], deadline: Deadline, grace: float = 0.0
                ) -> set[Future]:
    """Wait for `futures` until the deadline has ended (run out or cancelled) and `grace`
    seconds more; return those still not done. Never longer, whatever they wait on."""
    pending = set(futures)
    ended_at: float | None = None
    while pending:
        remaining = deadline.remaining()
        if remaining == 0:
            ended_at = time.monotonic() if ended_at is None else ended_at
            remaining = grace - (time.monotonic() - ended_at)
            if remaining <= 0:
                break
        timeout = WAKE_SECONDS if remaining is None else min(remaining, WAKE_SECONDS)
        pending = wait_for(pending, timeout=timeout).not_done
    return pending
