"""Jobs by label set, packed: a `JobGroup` of four amounts, and `Cells` of many."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from ...netbackup.fields import INT64_MAX, number

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
HOURLY_FROM_MS = 2 * HOUR_MS  # windows this long or longer are summed by the hour
KB_MAX = INT64_MAX // 1024  # kilobytes whose bytes fit in int64
GroupKey = tuple[str, str, str]  # job_type, policy_type, status
Amounts = list[Any]  # [finished, transferred_bytes, data_transferred_bytes, files]; None = absent
FIELDS = 4


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

def interned(key: Hashable) -> Hashable:
    """A new key with its strings interned: thousands of keys share a few hundred names, and
    the decoded page the values came from is not kept alive by them."""
    return tuple(sys.intern(value) if type(value) is str else value for value in cast(tuple, key))


def floor_minute(ms: int) -> int:
    return ms // MINUTE_MS * MINUTE_MS


def floor_hour(ms: int) -> int:
    return ms // HOUR_MS * HOUR_MS
