"""What the jobs collector keeps between runs, and its codec (docs/state.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from ..base import decoded_rows
from .cells import (
    FIELDS,
    HOUR_MS,
    HOURLY_FROM_MS,
    MINUTE_MS,
    Amounts,
    Cells,
    GroupKey,
    JobGroup,
    floor_hour,
    floor_minute,
)


def minute_detail_ms(window_seconds: Iterable[float]) -> int:
    """How far back minutes are kept: the longest window summed by the minute (under two
    hours), and at least the hour the recent rate of jobs is read from."""
    return max([HOUR_MS, *(int(seconds * 1000) for seconds in window_seconds
                           if seconds * 1000 < HOURLY_FROM_MS)])


@dataclass
class JobLedger:
    """What the jobs collector keeps between runs (docs/state.md)."""

    watermark_ms: int  # every job that ended before this has been read
    counting_from_ms: int  # a minute edge: the counters count jobs ending at or after it
    buckets: dict[int, Cells] = field(default_factory=dict)  # by minute, then label key
    hours: dict[int, Cells] = field(default_factory=dict)  # by hour: the minutes older than
    # the minute detail kept, merged (what windows of two hours or more sum)
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

    def prune(self, keep_ms: float, detail_ms: float = HOUR_MS) -> None:
        """Drop what is wholly older than the longest window; merge the minutes older than
        `detail_ms` (minute_detail_ms) into their hours: a 1h,24h state keeps an hour of
        minutes and 24 hours, not 1,440 minutes."""
        oldest = floor_minute(int(self.watermark_ms - keep_ms))
        hourly = keep_ms >= HOURLY_FROM_MS  # a window long enough to be summed by the hour
        detail_edge = max(oldest, floor_minute(int(self.watermark_ms - detail_ms)))
        kept: dict[int, Cells] = {}
        for minute, cells in self.buckets.items():
            if minute >= detail_edge:
                kept[minute] = cells
            elif hourly and minute >= floor_hour(oldest):
                into = self.hours.get(floor_hour(minute))
                if into is None:
                    self.hours[floor_hour(minute)] = cells
                else:
                    into.merge(cells)
                    into.seal()
        self.buckets = kept
        self.hours = {hour: cells for hour, cells in self.hours.items()
                      if hourly and hour >= floor_hour(oldest)}

    def window(self, seconds: float) -> dict[GroupKey, JobGroup]:
        """Jobs that ended in [the minute edge at or before watermark - seconds, watermark),
        or for a window of two hours or more, [the hour edge at or before it, watermark):
        not the minutes read ahead of it (their time is published when the gap is read; a
        minute the watermark falls in holds what was read of it)."""
        start = int(self.watermark_ms - seconds * 1000)
        hourly = seconds * 1000 >= HOURLY_FROM_MS
        since = floor_hour(start) if hourly else floor_minute(start)
        total: dict[GroupKey, JobGroup] = {}
        buckets = [*self.buckets.items(), *(self.hours.items() if hourly else ())]
        for minute, cells in buckets:
            if since <= minute < self.watermark_ms:
                for key, amounts in cells.items():
                    group = total.get(cast(GroupKey, key))
                    if group is None:
                        total[cast(GroupKey, key)] = JobGroup.of(amounts)
                    else:
                        group.add_amounts(amounts)
        return total

    def recent_rate(self, span_ms: int = 3_600_000) -> float | None:
        """Jobs that ended per millisecond over the last `span` before the watermark (or the
        part of it the buckets cover); None when the buckets cannot tell (a first run)."""
        since = self.watermark_ms - span_ms
        minutes = [minute for minute in self.buckets if since <= minute < self.watermark_ms]
        if not minutes:
            return None
        covered = self.watermark_ms - max(since, min(minutes))
        finished = sum(amounts[0] for minute in minutes
                       for _, amounts in self.buckets[minute].items())
        return finished / covered if covered > 0 else None

    # -- the run state's JSON ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The buckets as an iterator: written row by row (state.json_chunks), not held."""
        return {
            "watermark_ms": self.watermark_ms,
            "counting_from_ms": self.counting_from_ms,
            "read_ahead": [list(interval) for interval in self.read_ahead],
            "buckets": _bucket_rows(self.buckets),
            "hours": _bucket_rows(self.hours),
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
        _read_buckets(document.get("buckets"), ledger.buckets, keys, MINUTE_MS)
        if "hours" in document:  # a state written before hours were kept has none
            _read_buckets(document["hours"], ledger.hours, keys, HOUR_MS)
        for name in ("counters", "pending"):
            table = getattr(ledger, name)
            for row in _rows(document.get(name), 3 + FIELDS):
                table[_key(row[:3], keys)] = _amounts(row[3:])
        return ledger


def _bucket_rows(buckets: dict[int, Cells]) -> Iterator[list]:
    return ([start, *cast(tuple, key), *amounts] for start, cells in sorted(buckets.items())
            for key, amounts in sorted(cells.items()))


def _read_buckets(rows: object, into: dict[int, Cells], keys: dict[GroupKey, GroupKey],
                  edge_ms: int) -> None:
    for row in _rows(rows, 1 + 3 + FIELDS):
        start = _integer(row[0])
        if start % edge_ms:
            raise ValueError("a bucket that does not start on its edge")
        key, amounts = _key(row[1:4], keys), _amounts(row[4:])
        cells = into.get(start)
        if cells is None:
            cells = into[start] = Cells()
        if cells.row(key) is not None:
            raise ValueError("a bucket row repeated")
        try:
            cells.put(key, amounts)
        except OverflowError:  # beyond any float: no run wrote it
            raise ValueError("a bucket count too large") from None
    for cells in into.values():
        cells.seal()


def _integer(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def _rows(value: object, width: int) -> Iterator[list]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    for row in decoded_rows(value):
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
