"""Fast, lenient decoding of list pages: only the fields a collector names are built.

A collector describes its record as a msgspec Struct whose fields are all `Any` with a
default of None, so a missing field is None and a field of an unexpected type still
decodes (the collector coerces it). The whole page is decoded in one typed pass; only when
a record is not even an object with an object `attributes` does the page fall back to
decoding record by record, skipping (and counting) just the bad ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ..runtime.errors import ApiError
from .fields import label

R = TypeVar("R")


@dataclass
class Page(Generic[R]):
    records: list[R]
    skipped: int
    next_cursor: str | None  # meta.pagination.next of a cursor endpoint
    count: int | None  # meta.pagination.count of an offset endpoint


class _RawPage(msgspec.Struct):
    data: list[msgspec.Raw] | None = None
    meta: Any = None


def _pagination(meta: object) -> tuple[str | None, int | None]:
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(pagination, dict):
        return None, None
    cursor, count = pagination.get("next"), pagination.get("count")
    cursor = None if cursor is None or cursor == "" else str(cursor)
    count = count if isinstance(count, int) and not isinstance(count, bool) else None
    return cursor, count


def page_decoder(record_type: type[R]) -> Callable[[bytes, str], Page[R]]:
    typed_page: Any = msgspec.defstruct(
        "TypedPage", [("data", list[record_type] | None, None),  # type: ignore[valid-type]
                      ("meta", Any, None)])
    whole = msgspec.json.Decoder(typed_page)
    raw = msgspec.json.Decoder(_RawPage)
    single = msgspec.json.Decoder(record_type)

    def decode(body: bytes, what: str) -> Page[R]:
        page: Any
        try:
            page = whole.decode(body)
            if page.data is None:  # an error object, or `data: null`: not an empty list
                raise ApiError(f"{what}: the response has no `data` list")
            records, skipped = page.data, 0
        except msgspec.DecodeError as exc:
            if not isinstance(exc, msgspec.ValidationError):
                raise ApiError(f"{what}: malformed JSON") from None
            try:
                page = raw.decode(body)
            except msgspec.ValidationError:
                raise ApiError(f"{what}: the response is not a NetBackup list page") from None
            if page.data is None:
                raise ApiError(f"{what}: the response has no `data` list") from None
            records, skipped = [], 0
            for item in page.data:
                try:
                    records.append(single.decode(item))
                except msgspec.ValidationError:
                    skipped += 1
        return Page(records, skipped, *_pagination(page.meta))

    return decode



def named(records: Sequence[Any]) -> tuple[list[tuple[str, Any]], int]:
    """(name, attributes) of each record that has attributes and a name (its `name`
    attribute, else its id), and how many had not: one bad record is skipped, not the page."""
    found: list[tuple[str, Any]] = []
    for record in records:
        attrs = record.attributes
        name = label(getattr(attrs, "name", None) or record.id, "") if attrs is not None else ""
        if name:
            found.append((name, attrs))
    return found, len(records) - len(found)
