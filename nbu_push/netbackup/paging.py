"""Read every page: cursors for `/admin/jobs`, offsets for `/storage/*`.

Both pagers yield each decoded page and drop it before fetching the next, so memory does
not grow with the number of records. They count pages, records and skipped records. Loops
are guarded: a repeated cursor or a page count beyond `max_pages` fails the collector
loudly instead of spinning or under-reporting.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

import msgspec

from ..runtime.errors import ApiError, Cancelled
from ..runtime.stats import CollectorStats
from .client import NetBackupClient
from .decoding import Page, page_decoder
from .query import build_query

R = TypeVar("R")

JOBS_PAGE_LIMIT = 100  # /admin/jobs: page[limit] max 100
STORAGE_PAGE_LIMIT = 500  # /storage/storage-units: page[limit] 1..500



class FollowedCursors:
    """The cursors a chain has followed, as their 64-bit hashes in a sorted array: 8 bytes
    each, where the strings in a set took about 100 (a 1,000,000-job read follows 10,000
    cursors: memory would grow with the jobs). Two different cursors pass for one only if
    their hashes collide: about once in 10**11 chains of 10,000 pages."""

    def __init__(self) -> None:
        self._hashes = array("q")

    def add(self, cursor: str) -> bool:
        """Remember a cursor; False if it was followed before."""
        key = hash(cursor)
        at = bisect.bisect_left(self._hashes, key)
        if at < len(self._hashes) and self._hashes[at] == key:
            return False
        self._hashes.insert(at, key)
        return True


def cursor_pages(
    client: NetBackupClient,
    path: str,
    params: Mapping[str, object],
    decode: Callable[[bytes, str], Page[R]],
    stats: CollectorStats,
    max_pages: int,
    cancel: threading.Event | None = None,
) -> Iterator[Page[R]]:
    """Follow `meta.pagination.next` (an opaque string) with `page[after]`."""
    query = dict(params)
    query.setdefault("page[limit]", JOBS_PAGE_LIMIT)
    followed = FollowedCursors()
    for number in range(1, max_pages + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"GET {path}: stopped")
        page = _fetch(client, path, query, decode, stats)
        if not page.records and not page.skipped and page.next_cursor is not None:
            raise ApiError(f"GET {path}: page {number} is empty but names a next page; the"
                           " list would be cut short")
        yield page
        if (not page.records and not page.skipped) or page.next_cursor is None:
            return
        if not followed.add(page.next_cursor):
            raise ApiError(f"GET {path}: cursor {page.next_cursor!r} repeated on page"
                           f" {number + 1}")
        query["page[after]"] = page.next_cursor
    stats.add(page_cap_hits=1)
    raise ApiError(f"GET {path}: more than {max_pages} pages (raise NBU_MAX_PAGES)")


def offset_pages(
    client: NetBackupClient,
    path: str,
    params: Mapping[str, object],
    decode: Callable[[bytes, str], Page[R]],
    stats: CollectorStats,
    max_pages: int,
    limit: int = STORAGE_PAGE_LIMIT,
    authenticated: bool = True,  # False: the endpoint takes no credentials (none are sent)
) -> Iterator[Page[R]]:
    """Advance `page[offset]` by the records received until `meta.pagination.count`, or,
    without a count, until an empty page: a short page proves nothing when the server's
    page may be smaller than the one asked for."""
    offset = 0
    for _ in range(max_pages):
        query = {**params, "page[limit]": limit, "page[offset]": offset}
        page = _fetch(client, path, query, decode, stats, authenticated)
        received = len(page.records) + page.skipped
        if received > limit:
            raise ApiError(f"GET {path}: {received} records on a page of {limit}")
        if not received and page.count is not None and offset < page.count:
            raise ApiError(f"GET {path}: the count says {page.count} records, only {offset}"
                           " were delivered")
        yield page
        offset += received
        if not received:
            return
        if page.count is not None and offset >= page.count:
            return
    stats.add(page_cap_hits=1)
    raise ApiError(f"GET {path}: more than {max_pages} pages (raise NBU_MAX_PAGES)")


def first_record(
    client: NetBackupClient,
    path: str,
    params: Mapping[str, object],
    decode: Callable[[bytes, str], Page[R]],
    stats: CollectorStats,
) -> R | None:
    """The first record of a sorted query (`page[limit]=1`), or None when nothing matches."""
    page = _fetch(client, path, {**params, "page[limit]": 1}, decode, stats)
    return page.records[0] if page.records else None


def _fetch(client: NetBackupClient, path: str, query: Mapping[str, object],
           decode: Callable[[bytes, str], Page[R]], stats: CollectorStats,
           authenticated: bool = True) -> Page[R]:
    response = client.request("GET", path, query=build_query(query), stats=stats,
                              authenticated=authenticated)
    page = decode(response.content, f"GET {path}")
    stats.add(pages=1, records=len(page.records) + page.skipped, skipped=page.skipped)
    return page


def count_records(client: NetBackupClient, path: str, params: Mapping[str, object],
                  stats: CollectorStats, limit: int = 1) -> int:
    """How many records match `params`: `meta.pagination.count` of one small page (with
    `limit` 0 where the endpoint allows it, no record is sent at all)."""
    page = _fetch(client, path, {**params, "page[limit]": limit}, _decode_any_page, stats)
    if page.count is None:
        raise ApiError(f"GET {path}: the response has no meta.pagination.count")
    return page.count


_decode_any_page = page_decoder(msgspec.Raw)  # the records are not read, only counted
