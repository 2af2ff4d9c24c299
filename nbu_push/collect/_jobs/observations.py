"""What the jobs say about each client and policy: its attempts, snapshots and copies."""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from ...netbackup.fields import label, number, timestamp
from ...netbackup.jobs import JobAttributes
from .._verdict import (
    BACKUP,
    COPIES,
    SNAPSHOT,
    usable,
)
from .cells import interned

ClientKey = tuple[str, str, str]  # client, policy_name, policy_type
MAX_FAILURES = 100  # failed attempts remembered per client and policy (the newest)
OTHER_KINDS = (SNAPSHOT, *COPIES)  # kept beside the backups: the latest usable end of each


def keep_latest(into: object, kind: str, end: Any) -> None:
    """`into.<kind>` becomes `end` if that is later (None: nothing known)."""
    if end is not None:
        latest = getattr(into, kind)
        if latest is None or end > latest:
            setattr(into, kind, end)


@dataclass(slots=True)  # one per client and policy
class Attempts:
    """The backups of one client and policy seen by a run; times as read (ISO strings)
    while reading, Unix milliseconds once folded (`in_ms`)."""

    success: Any = None  # the latest end of a usable backup (status 0 or 1)
    attempt: Any = None  # the latest end of any attempt ...
    status: Any = ""  # ... and its status (as read; a label once folded)
    failures: list | tuple = ()  # ends of failed attempts after `success` (a list once any)
    snapshot: Any = None  # the latest end of a usable SNAPSHOT (never a backup copy)
    duplicate: Any = None  # ... of a usable DUPLICATE (a further copy of an image)
    replicate: Any = None  # ... of a usable REPLICATE

    def add(self, end: Any, status: object) -> None:
        code = status if type(status) is int else number(status)
        if self.attempt is None or end >= self.attempt:
            self.attempt, self.status = end, status  # the raw status until folded
        if code is None:
            return
        if 0 <= code <= 1:
            if self.success is None or end > self.success:
                self.success = end
                if self.failures:  # failures before a usable backup no longer count
                    self.failures = [failed for failed in self.failures if failed > end]
        elif self.success is not None and end <= self.success:
            return  # older than a usable backup (another slice's): it no longer counts
        elif not self.failures:
            self.failures = [end]  # most clients never need the list
        else:
            cast(list, self.failures).append(end)
            if len(self.failures) > 2 * MAX_FAILURES:  # a client that always fails
                self.failures = sorted(self.failures)[-MAX_FAILURES:]

    def merge(self, other: Attempts) -> None:
        """Fold in the attempts of a raw key that reads the same once normalized."""
        if other.attempt is not None and (self.attempt is None or other.attempt >= self.attempt):
            self.attempt, self.status = other.attempt, other.status
        if other.success is not None and (self.success is None or other.success > self.success):
            self.success = other.success
        if other.failures:
            self.failures = [*self.failures, *other.failures]
        for kind in OTHER_KINDS:
            keep_latest(self, kind, getattr(other, kind))

    def in_ms(self) -> Attempts | None:
        """Times as Unix ms; None when no time in it is readable."""
        attempt = _ms(self.attempt)
        others = [_ms(getattr(self, kind)) for kind in OTHER_KINDS]
        if attempt is None and all(ms is None for ms in others):
            return None
        failures = tuple(ms for ms in map(_ms, self.failures) if ms is not None)
        # a status label is one of a few dozen: one string each, not one per client
        status = sys.intern(label(self.status)) if attempt is not None else ""
        return Attempts(_ms(self.success) if attempt is not None else None, attempt, status,
                        failures if attempt is not None else (), *others)


def _ms(value: object) -> int | None:
    seconds = timestamp(value)
    return None if seconds is None else round(seconds * 1000)




class Backups:
    """Backup attempts by the raw (clientName, policyName, policyType), over every slice of a
    run: the slices' readers share one (a lock keeps each update whole), so a run holds one
    `Attempts` per client and policy, not one per slice. Observing a job again changes
    nothing (latest times, failures as a set once folded), so the observations of a slice
    whose progress is dropped (it is read again next run) may stay."""

    def __init__(self) -> None:
        self._by_raw: dict[Hashable, Attempts] = {}
        self._lock = threading.Lock()

    def observe(self, verdicts: Iterable[tuple[JobAttributes, str, str]]) -> None:
        """Jobs that carry a verdict for their client: (attributes, endTime, kind)."""
        by_raw = self._by_raw
        with self._lock:
            for attrs, end, kind in verdicts:
                raw_key: Hashable = (attrs.clientName, attrs.policyName, attrs.policyType)
                try:
                    seen = by_raw.get(raw_key)
                except TypeError:  # an unhashable value (list, object): normalize it now
                    raw_key = (label(attrs.clientName, ""), label(attrs.policyName),
                               label(attrs.policyType))
                    seen = by_raw.get(raw_key)
                if seen is None:
                    seen = by_raw[interned(raw_key)] = Attempts()
                if kind == BACKUP:
                    seen.add(end, attrs.status)
                elif usable(attrs.status):
                    keep_latest(seen, kind, end)

    def by_client(self) -> dict[ClientKey, Attempts]:
        """Labelled once: keys that read alike are merged; a job without a client name
        protects nobody."""
        merged: dict[ClientKey, Attempts] = {}
        with self._lock:
            for raw_key, attempts in self._by_raw.items():
                client, policy, policy_type = cast(tuple, raw_key)
                name = label(client, "")
                if not name:
                    continue
                key = (name, label(policy), label(policy_type))
                if key == raw_key:  # read as labels already: the kept tuple, not a copy
                    key = cast(ClientKey, raw_key)
                if key in merged:
                    merged[key].merge(attempts)
                else:
                    merged[key] = attempts
        return merged
