"""The jobs collector's bookkeeping, pure and I/O-free: tallies, per-minute buckets, counters.

A `JobTally` folds job records as they are read, keyed by the raw (jobType, policyType,
status) and the minute the job ended. A `JobLedger` is what the run state keeps between runs:
the watermark (every job that ended before it has been read), the counters (jobs that ended
since `counting_from_ms`), and per-minute buckets for the window gauges. See docs/state.md.
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, cast

import msgspec

from ..netbackup.fields import INT64_MAX, label, number, timestamp
from ._verdict import (
    BACKUP,
    COPIES,
    KIND_OF_JOB_TYPE,
    SNAPSHOT,
    has_children,
    usable,
    verdict_of,
)

MINUTE_MS = 60_000
KB_MAX = INT64_MAX // 1024  # kilobytes whose bytes fit in int64
GroupKey = tuple[str, str, str]  # job_type, policy_type, status
Amounts = list[Any]  # [finished, transferred_bytes, data_transferred_bytes, files]; None = absent
FIELDS = 4


class JobAttributes(msgspec.Struct, gc=False):
    """The only job attributes nbu-push reads; the other ~70 are skipped while decoding."""

    jobType: Any = None
    policyType: Any = None
    status: Any = None
    childCount: Any = None
    kilobytesTransferred: Any = None
    kilobytesDataTransferred: Any = None
    numberOfFiles: Any = None
    endTime: Any = None
    jobId: Any = None
    parentJobId: Any = None
    clientName: Any = None
    policyName: Any = None


class JobRecord(msgspec.Struct, gc=False):
    attributes: JobAttributes | None = None


@dataclass(slots=True)  # one per label set and minute: thousands, kept small
class JobGroup:
    finished: int = 0
    transferred_bytes: int | None = None  # kilobytesTransferred x 1024, leaf jobs
    data_transferred_bytes: int | None = None  # kilobytesDataTransferred x 1024, leaf jobs
    files: int | None = None  # numberOfFiles, leaf jobs

    def merge(self, other: JobGroup) -> None:
        self.add_amounts(other.amounts())

    def _add(self, transferred: int | None, data: int | None, files: int | None) -> None:
        """Add amounts; an absent one (None) leaves the total as it is (absent is not 0)."""
        if transferred is not None:
            self.transferred_bytes = (self.transferred_bytes or 0) + transferred
        if data is not None:
            self.data_transferred_bytes = (self.data_transferred_bytes or 0) + data
        if files is not None:
            self.files = (self.files or 0) + files

    def add_amounts(self, amounts: Amounts) -> None:
        self.finished += amounts[0]
        self._add(*amounts[1:])

    def add_leaf(self, kb: object, kb_data: object, files: object) -> bool:
        """Add a leaf job's amounts; True when one was present but unusable."""
        if (type(kb) is int and type(kb_data) is int and type(files) is int and 0 <= kb
                <= KB_MAX and 0 <= kb_data <= KB_MAX and 0 <= files <= INT64_MAX):
            # the common case, once per job: three usable counts, without the calls below
            self.transferred_bytes = (self.transferred_bytes or 0) + kb * 1024
            self.data_transferred_bytes = (self.data_transferred_bytes or 0) + kb_data * 1024
            self.files = (self.files or 0) + files
            return False
        transferred, data, count = _count(kb, 1024), _count(kb_data, 1024), _count(files)
        self._add(transferred, data, count)
        return ((transferred is None and kb is not None) or (data is None and kb_data is not None)
                or (count is None and files is not None))

    def amounts(self) -> Amounts:
        return [self.finished, self.transferred_bytes, self.data_transferred_bytes, self.files]

    @classmethod
    def of(cls, amounts: Amounts) -> JobGroup:
        return cls(*amounts)


def _count(value: object, scale: int = 1) -> int | None:
    """A non-negative amount times `scale` that fits in int64; anything else is absent."""
    if type(value) is int:  # the common case, without the general coercion
        return value * scale if 0 <= value <= INT64_MAX // scale else None
    parsed = number(value)
    if parsed is None or not 0 <= parsed <= INT64_MAX / scale:
        return None
    return int(parsed * scale)


class Cells:
    """Jobs by label key, packed (a minute's, or a slice's counted-only jobs): per row its
    key and eight bytes per amount, where an object and four ints per key took about 280 (a
    ledger holds a row per label set and minute, tens of thousands on a large primary; each
    slice's tally packs the minutes it has read past). The key -> row lookup exists only
    while rows are added: `seal()` drops it, which leaves a row 41 bytes (a minute read past
    rarely changes again; `add` builds the lookup anew if it does). Amounts are summed as
    float64: exact up to 2**53 in one row (8 PiB of one label set), and never overflowing."""

    __slots__ = ("_rows", "data", "files", "finished", "keys", "present", "transferred")

    def __init__(self) -> None:
        self.keys: list[Hashable] = []  # row -> key
        self._rows: dict[Hashable, int] | None = {}  # key -> row; None once sealed
        self.finished = array("d")
        self.transferred = array("d")  # bytes (kilobytesTransferred x 1024), leaf jobs
        self.data = array("d")  # bytes (kilobytesDataTransferred x 1024), leaf jobs
        self.files = array("d")  # numberOfFiles, leaf jobs
        self.present = array("B")  # which amounts a row has: 1 transferred, 2 data, 4 files

    def row(self, key: Hashable) -> int | None:
        """The row of a key, or None."""
        rows = self._rows
        if rows is None:
            rows = self._rows = {key: index for index, key in enumerate(self.keys)}
        return rows.get(key)

    def seal(self) -> None:
        """Drop the key -> row lookup (see the class)."""
        self._rows = None

    def put(self, key: Hashable, amounts: Amounts) -> int:
        """A row for a key not here yet; its number."""
        index = len(self.keys)
        self.keys.append(key)
        if self._rows is not None:
            self._rows[key] = index
        finished, transferred, data, files = amounts
        self.finished.append(finished)
        self.transferred.append(transferred or 0)
        self.data.append(data or 0)
        self.files.append(files or 0)
        self.present.append((transferred is not None) | (data is not None) << 1
                            | (files is not None) << 2)
        return index

    def add(self, key: Hashable, amounts: Amounts) -> None:
        """Add [finished, transferred, data transferred, files] (None: absent) to a row."""
        index = self.row(key)
        if index is None:
            self.put(key, amounts)
            return
        self.finished[index] += amounts[0]
        for bit, column, amount in ((1, self.transferred, amounts[1]),
                                    (2, self.data, amounts[2]), (4, self.files, amounts[3])):
            if amount is not None:
                column[index] += amount
                self.present[index] |= bit

    def amounts(self, index: int) -> Amounts:
        present = self.present[index]
        return [int(self.finished[index]),
                int(self.transferred[index]) if present & 1 else None,
                int(self.data[index]) if present & 2 else None,
                int(self.files[index]) if present & 4 else None]

    def merge(self, other: Cells) -> None:
        for key, amounts in other.items():
            self.add(key, amounts)

    def items(self) -> Iterator[tuple[Hashable, Amounts]]:
        for index, key in enumerate(self.keys):
            yield key, self.amounts(index)


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

    def add_kind(self, kind: str, end: Any, status: object) -> None:
        """A job carrying the verdict `kind` for this client (_verdict.verdict_of)."""
        if kind == BACKUP:
            self.add(end, status)
        elif usable(status):
            keep_latest(self, kind, end)

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


def _interned(key: Hashable) -> Hashable:
    """A new key with its strings interned: thousands of keys share a few hundred names, and
    the decoded page the values came from is not kept alive by them."""
    return tuple(sys.intern(value) if type(value) is str else value for value in cast(tuple, key))


class Backups:
    """Backup attempts by the raw (clientName, policyName, policyType), over every slice of a
    run: the slices' readers share one (a lock keeps each update whole), so a run holds one
    `Attempts` per client and policy, not one per slice. Observing a job again changes
    nothing (latest times, failures as a set once folded), so the observations of a slice
    whose progress is dropped (it is read again next run) may stay."""

    def __init__(self) -> None:
        self._by_raw: dict[Hashable, Attempts] = {}
        self._lock = threading.Lock()

    def observe(self, attrs: JobAttributes, end: str, kind: str) -> None:
        raw_key: Hashable = (attrs.clientName, attrs.policyName, attrs.policyType)
        with self._lock:
            try:
                seen = self._by_raw.get(raw_key)
            except TypeError:  # an unhashable value (list, object): normalize it now
                raw_key = (label(attrs.clientName, ""), label(attrs.policyName),
                           label(attrs.policyType))
                seen = self._by_raw.get(raw_key)
            if seen is None:
                seen = self._by_raw[_interned(raw_key)] = Attempts()
            seen.add_kind(kind, end, attrs.status)

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


def group_key(job_type: object, policy_type: object, status: object) -> GroupKey:
    return (label(job_type), label(policy_type), label(status))


def minute_of(token: object) -> int | None:
    """The minute (Unix ms) a job ended, from the token `JobTally` keeps for it."""
    if not isinstance(token, str):
        return None
    if len(token) == 16:  # "2026-12-02T05:34", of a UTC ...Z time
        try:
            moment = datetime.strptime(token, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
        except ValueError:
            return None
        return int(moment.timestamp()) * 1000
    seconds = timestamp(token)
    return None if seconds is None else int(seconds * 1000) // MINUTE_MS * MINUTE_MS


@dataclass
class JobTally:
    """Records folded while reading. A minute being read is kept as objects keyed by the raw
    (type, policy type, status, minute token), cheap to hash and to add to; a minute the
    slice has read past (pages come in endTime order) is packed into `Cells`, so a tally
    holds objects for about one minute at a time. A minute the slice has read more than
    `keep_ms` past is in no window again (docs/state.md): its jobs at or after
    `counting_from_ms` join the counted-only cells and the rest are dropped, so a slice holds
    at most `keep_ms` of minutes however long a backfill or a catch-up is.
    `take_buckets()` normalizes labels and minutes afterwards."""

    keep_ms: int | None = None  # the longest window; None: keep every minute
    counting_from_ms: int = 0  # the ledger's: jobs that end at or after it are counted
    backups: Backups = field(default_factory=Backups)  # shared by the slices of a run
    _open: dict[Hashable, JobGroup] = field(default_factory=dict)  # minutes being read
    # by minute token: its minute (Unix ms; None: unreadable) and its cells
    _packed: dict[Hashable, tuple[int | None, Cells]] = field(default_factory=dict)
    _counted: Cells = field(default_factory=Cells)  # in no window, to be counted
    _triples: dict[Hashable, Hashable] = field(default_factory=dict)  # one object per key
    _newest: str = ""  # the newest minute token folded
    values_skipped: int = 0  # amounts present but unusable (negative, beyond int64, junk)
    unreadable_ends: int = 0  # records without attributes or with an endTime not a string

    def add_records(self, records: Iterable[JobRecord]) -> int:
        """Fold records in; returns how many were skipped as malformed (no attributes).

        The hot loop of a run (once per job): it touches only raw values and leaves every
        normalization to `take_buckets()` and `Backups.by_client()`, once per distinct key."""
        skipped = 0
        raw, observe = self._open, self.backups.observe
        for record in records:
            attrs = record.attributes
            if attrs is None:
                skipped += 1
                self.unreadable_ends += 1
                continue
            end, job_type = attrs.endTime, attrs.jobType
            minute = None  # no readable end: `take_buckets` puts it in the fallback minute
            if type(end) is not str:
                self.unreadable_ends += 1
            else:
                minute = end
                if end[-1:] == "Z":  # the minute prefix of a UTC time, else parsed later
                    minute = end[:16]
                if type(job_type) is str and job_type in KIND_OF_JOB_TYPE:
                    kind = verdict_of(job_type, attrs.policyType, attrs.jobId,
                                      attrs.parentJobId, attrs.childCount)
                    if kind is not None:
                        observe(attrs, end, kind)
            raw_key: Hashable = (job_type, attrs.policyType, attrs.status, minute)
            try:
                group = raw.get(raw_key)
            except TypeError:  # an unhashable value (list, object): normalize it now
                raw_key = (*group_key(job_type, attrs.policyType, attrs.status), minute)
                group = raw.get(raw_key)
            if group is None:
                if minute is not None and minute > self._newest:  # the minutes before are
                    self._pack(minute)  # read (a token out of order is merged later)
                    self._newest = minute
                    self._evict(minute)
                group = raw[_interned(raw_key)] = JobGroup()
            group.finished += 1
            child_count = attrs.childCount
            if child_count and has_children(child_count):  # its children carry the bytes
                continue
            if group.add_leaf(attrs.kilobytesTransferred, attrs.kilobytesDataTransferred,
                              attrs.numberOfFiles):
                self.values_skipped += 1
        return skipped

    def _pack(self, before: str | None = None) -> None:
        """Move the open groups of the minutes before `before` (of every minute: None) into
        their minute's cells, sealed (`_open` is changed in place: the hot loop holds it)."""
        touched = []
        for raw_key in list(self._open):
            *triple, token = cast(tuple, raw_key)
            if before is not None and (token is None or token >= before):
                continue
            packed = self._packed.get(token)
            if packed is None:
                packed = self._packed[token] = (minute_of(token), Cells())
            key = self._triples.setdefault(tuple(triple), tuple(triple))
            packed[1].add(key, self._open.pop(raw_key).amounts())
            touched.append(packed[1])
        for cells in touched:
            cells.seal()

    def _evict(self, newest: str) -> None:
        """Take the packed minutes before `newest` minus `keep_ms` out of the buckets: once
        the slice has read this far, a window that reaches them cannot end inside it."""
        newest_ms = minute_of(newest)
        if self.keep_ms is None or newest_ms is None:
            return
        before = floor_minute(newest_ms - self.keep_ms)
        for token, (minute, cells) in list(self._packed.items()):
            if minute is not None and minute < before:
                del self._packed[token]
                if minute >= self.counting_from_ms:
                    self._counted.merge(cells)

    def take_buckets(self, fallback_minute: int) -> tuple[dict[int, Cells], Cells]:
        """By minute (Unix ms), each by label key, and the counted-only cells of the minutes
        evicted; the cells move out (relabelled, not copied) and the tally is empty
        afterwards. A job without a readable endTime (the server put it in the slice by its
        endTime, so it is there) goes to `fallback_minute`."""
        self._pack()
        labels: dict[Hashable, Hashable] = {}  # normalized once per raw triple
        out: dict[int, Cells] = {}
        for packed_minute, cells in self._packed.values():
            minute = packed_minute or fallback_minute
            cells = _relabelled(cells, labels)
            if minute in out:  # tokens of one minute (a UTC time and an offset one)
                out[minute].merge(cells)
                out[minute].seal()
            else:
                out[minute] = cells
        counted = _relabelled(self._counted, labels)
        self._packed, self._counted = {}, Cells()
        self._triples, self._newest = {}, ""
        return out, counted


def _relabelled(cells: Cells, labels: dict[Hashable, Hashable]) -> Cells:
    """The cells by normalized key (`labels`: once per raw key), sealed: these cells,
    relabelled in place, or new ones where raw keys that read alike are merged."""
    keys = []
    for raw in cells.keys:
        key = labels.get(raw)
        if key is None:
            key = labels[raw] = group_key(*cast(tuple, raw))
        keys.append(key)
    if len(set(keys)) == len(keys):
        relabelled = cells
        relabelled.keys = keys
    else:
        relabelled = Cells()
        for index, key in enumerate(keys):
            relabelled.add(key, cells.amounts(index))
    relabelled.seal()
    return relabelled


def floor_minute(ms: int) -> int:
    return ms // MINUTE_MS * MINUTE_MS


@dataclass
class JobLedger:
    """What the jobs collector keeps between runs (docs/state.md)."""

    watermark_ms: int  # every job that ended before this has been read
    counting_from_ms: int  # a minute edge: the counters count jobs ending at or after it
    buckets: dict[int, Cells] = field(default_factory=dict)  # by minute, then label key
    read_ahead: list[tuple[int, int]] = field(default_factory=list)  # [start, end) read
    # beyond the watermark, by a run that stopped before the time between was read
    counters: dict[GroupKey, Amounts] = field(default_factory=dict)
    pending: dict[GroupKey, Amounts] = field(default_factory=dict)  # published from next run

    def begin_run(self) -> None:
        """What was held back last run (label sets or fields seen for the first time, published
        at 0) is added now."""
        for key, held in self.pending.items():
            current = self.counters.setdefault(key, [None] * FIELDS)
            for index, amount in enumerate(held):
                if amount is not None:
                    current[index] = (current[index] or 0) + amount
        self.pending = {}

    def gaps(self, until_ms: int) -> list[tuple[int, int]]:
        """The parts of [watermark, until) not read yet, in time order."""
        found, cursor = [], self.watermark_ms
        for start, end in sorted(self.read_ahead):
            if start > cursor:
                found.append((cursor, min(start, until_ms)))
            cursor = max(cursor, end)
        found.append((cursor, until_ms))
        return [(start, end) for start, end in found if start < end]

    def add(self, taken: tuple[dict[int, Cells], Cells], start_ms: int, end_ms: int) -> None:
        """Fold in what a tally took of the completely read time range [start, end): its
        buckets (a minute new here is taken over, not copied) and its counted-only cells;
        the watermark advances over every range that now joins it."""
        buckets, counted = taken
        for key, amounts in counted.items():  # in no window: counted, not kept
            self._count(cast(GroupKey, key), amounts)
        for minute, cells in buckets.items():
            if minute >= self.counting_from_ms:
                for key, amounts in cells.items():
                    self._count(cast(GroupKey, key), amounts)
            into = self.buckets.get(minute)
            if into is None:
                self.buckets[minute] = cells
            else:
                into.merge(cells)
                into.seal()
        ahead = []
        for start, end in sorted([*self.read_ahead, (start_ms, end_ms)]):
            if start <= self.watermark_ms:
                self.watermark_ms = max(self.watermark_ms, end)
            else:
                ahead.append((start, end))
        self.read_ahead = ahead

    def _count(self, key: GroupKey, amounts: Amounts) -> None:
        current = self.counters.setdefault(key, [None] * FIELDS)
        held = self.pending.get(key)
        for index, amount in enumerate(amounts):
            if amount is None:
                continue
            if current[index] is None or (held is not None and held[index] is not None):
                current[index] = current[index] or 0  # first seen: published at 0 ...
                held = self.pending.setdefault(key, [None] * FIELDS)
                held[index] = (held[index] or 0) + amount  # ... and added next run
            else:
                current[index] += amount

    def prune(self, keep_ms: float) -> None:
        """Drop buckets wholly older than the longest window."""
        oldest = floor_minute(int(self.watermark_ms - keep_ms))
        self.buckets = {m: b for m, b in self.buckets.items() if m >= oldest}

    def window(self, seconds: float) -> dict[GroupKey, JobGroup]:
        """Jobs that ended in [the minute edge at or before watermark - seconds, watermark):
        not the minutes read ahead of it (their time is published when the gap is read; a
        minute the watermark falls in holds what was read of it)."""
        since = floor_minute(int(self.watermark_ms - seconds * 1000))
        total: dict[GroupKey, JobGroup] = {}
        for minute, cells in self.buckets.items():
            if since <= minute < self.watermark_ms:
                for key, amounts in cells.items():
                    group = total.get(cast(GroupKey, key))
                    if group is None:
                        total[cast(GroupKey, key)] = JobGroup.of(amounts)
                    else:
                        group.add_amounts(amounts)
        return total

    # -- the run state's JSON ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The buckets as an iterator: written row by row (state.json_chunks), not held."""
        return {
            "watermark_ms": self.watermark_ms,
            "counting_from_ms": self.counting_from_ms,
            "read_ahead": [list(interval) for interval in self.read_ahead],
            "buckets": ([minute, *cast(tuple, key), *amounts]
                        for minute, cells in sorted(self.buckets.items())
                        for key, amounts in sorted(cells.items())),
            "counters": [[*key, *amounts] for key, amounts in sorted(self.counters.items())],
            "pending": [[*key, *amounts] for key, amounts in sorted(self.pending.items())],
        }

    @classmethod
    def from_json(cls, document: object) -> JobLedger:
        """Strictly validated: a state that could give a wrong total raises ValueError."""
        if not isinstance(document, dict):
            raise ValueError("not an object")
        ledger = cls(_integer(document.get("watermark_ms")),
                     _integer(document.get("counting_from_ms")))
        for start, end in _rows(document.get("read_ahead"), 2):
            if not ledger.watermark_ms < _integer(start) < _integer(end):
                raise ValueError("a read-ahead range that is not beyond the watermark")
            ledger.read_ahead.append((start, end))
        keys: dict[GroupKey, GroupKey] = {}  # one tuple per label set, not one per row
        for row in _rows(document.get("buckets"), 1 + 3 + FIELDS):
            key, amounts = _key(row[1:4], keys), _amounts(row[4:])
            cells = ledger.buckets.get(_integer(row[0]))
            if cells is None:
                cells = ledger.buckets[row[0]] = Cells()
            if cells.row(key) is not None:
                raise ValueError("a bucket row repeated")
            try:
                cells.put(key, amounts)
            except OverflowError:  # beyond any float: no run wrote it
                raise ValueError("a bucket count too large") from None
        for cells in ledger.buckets.values():
            cells.seal()
        for name in ("counters", "pending"):
            table = getattr(ledger, name)
            for row in _rows(document.get(name), 3 + FIELDS):
                table[_key(row[:3], keys)] = _amounts(row[3:])
        return ledger


def _integer(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def _rows(value: object, width: int) -> Iterator[list]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    for row in value:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError("a row of the wrong shape")
        yield row


def _key(values: list, known: dict[GroupKey, GroupKey]) -> GroupKey:
    """The label set of a row, the same tuple for every row of it (a state's rows name a few
    hundred label sets tens of thousands of times)."""
    if not all(isinstance(value, str) for value in values):
        raise ValueError("a label that is not a string")
    key = (values[0], values[1], values[2])
    return known.setdefault(key, key)


def _amounts(values: list) -> Amounts:
    for value in values:
        if value is not None and (type(value) is not int or value < 0):
            raise ValueError(f"{value!r} is not a count")
    return list(values)
