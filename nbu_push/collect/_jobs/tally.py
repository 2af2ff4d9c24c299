"""Job records folded while a slice is read, by raw label key and the minute they ended."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import cast

from ...netbackup.fields import label, timestamp
from ...netbackup.jobs import JobRecord
from .._verdict import (
    KIND_OF_JOB_TYPE,
    has_children,
    verdict_of,
)
from .cells import MINUTE_MS, Cells, GroupKey, JobGroup, floor_minute, interned
from .observations import Backups


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
        normalization to `take_buckets()` and `Backups.by_client()`, once per distinct key;
        the jobs that carry a verdict for their client go to `backups` once per call."""
        skipped = 0
        raw, verdicts = self._open, []
        for record in records:
            attrs = record.attributes
            if attrs is None:
                skipped += 1
                self.unreadable_ends += 1
                continue
            end, job_type, policy_type, status = (attrs.endTime, attrs.jobType,
                                                  attrs.policyType, attrs.status)
            minute = None  # no readable end: `take_buckets` puts it in the fallback minute
            if type(end) is not str:
                self.unreadable_ends += 1
            else:
                minute = end
                if end[-1:] == "Z":  # the minute prefix of a UTC time, else parsed later
                    minute = end[:16]
                if type(job_type) is str and job_type in KIND_OF_JOB_TYPE:
                    kind = verdict_of(job_type, policy_type, attrs.jobId, attrs.parentJobId,
                                      attrs.childCount)
                    if kind is not None:
                        verdicts.append((attrs, end, kind))
            raw_key: Hashable = (job_type, policy_type, status, minute)
            try:
                group = raw.get(raw_key)
            except TypeError:  # an unhashable value (list, object): normalize it now
                raw_key = (*group_key(job_type, policy_type, status), minute)
                group = raw.get(raw_key)
            if group is None:
                if minute is not None and minute > self._newest:  # the minutes before are
                    self._pack(minute)  # read (a token out of order is merged later)
                    self._newest = minute
                    self._evict(minute)
                group = raw[interned(raw_key)] = JobGroup()
            group.finished += 1
            child_count = attrs.childCount
            if child_count and has_children(child_count):  # its children carry the bytes
                continue
            if group.add_leaf(attrs.kilobytesTransferred, attrs.kilobytesDataTransferred,
                              attrs.numberOfFiles):
                self.values_skipped += 1
        if verdicts:
            self.backups.observe(verdicts)
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
