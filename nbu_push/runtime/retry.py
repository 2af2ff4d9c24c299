"""One bounded retry loop for every HTTP call nbu-push makes (NetBackup and Pushgateway).

Exponential backoff with full jitter, capped per wait, and never sleeping past the run
deadline. What is retryable is the caller's decision.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

from .deadline import Deadline

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    attempts: int = 3
    base: float = 0.5
    cap: float = 10.0

    def delay(self, attempt: int) -> float:
        """Full-jitter delay after failed attempt number `attempt` (1-based)."""
        return random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


class Retry(Exception):
    """Raised by an attempt to ask for another one; `error` is raised if none is left."""

    def __init__(self, error: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def with_retries(
    attempt: Callable[[], T],
    backoff: Backoff,
    deadline: Deadline,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call `attempt` until it returns, raises something other than Retry, or runs out."""
    for number in range(1, backoff.attempts + 1):
        try:
            return attempt()
        except Retry as retry:
            if number == backoff.attempts:
                raise retry.error from None
            wait = backoff.delay(number)
            if retry.retry_after is not None:
                wait = min(retry.retry_after, backoff.cap * 3)
            remaining = deadline.remaining()
            if remaining is not None and wait >= remaining:
                raise retry.error from None
            (sleep or deadline.sleep)(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds, HTTP-date or ISO 8601."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when: datetime | None = None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())
