"""Read every page: cursors for `/admin/jobs`, offsets for `/storage/*`.

Both pagers yield each page's `data` list and drop it before fetching the next, so memory
does not grow with the number of records. Loops are guarded: a repeated cursor or a page
count beyond `max_pages` fails the collector loudly instead of spinning or under-reporting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from ..errors import ApiError, NbuPushError
from ..stats import CollectorStats
from .client import NetBackupClient
from .query import build_query

JOBS_PAGE_LIMIT = 100  # /admin/jobs: page[limit] max 100
STORAGE_PAGE_LIMIT = 500  # /storage/storage-units: page[limit] 1..500


class Cancelled(NbuPushError):
    """Another part of the same collector failed; this one stopped early."""


def _page_data(document: dict, path: str) -> list:
    data = document.get("data", [])
    if data is None:
        return []
    if not isinstance(data, list):
        raise ApiError(f"GET {path}: `data` is not a list")
    return data


def _pagination(document: dict) -> Mapping:
    meta = document.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    return pagination if isinstance(pagination, dict) else {}


def cursor_pages(
    client: NetBackupClient,
    path: str,
    params: Mapping[str, object],
    stats: CollectorStats,
    max_pages: int,
    cancel: threading.Event | None = None,
) -> Iterator[list]:
    """Follow `meta.pagination.next` (an opaque string) with `page[after]`."""
    query = dict(params)
    query.setdefault("page[limit]", JOBS_PAGE_LIMIT)
    seen: set[str] = set()
    for page in range(1, max_pages + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"GET {path}: stopped")
        document = client.get_json(path, build_query(query), stats=stats)
        data = _page_data(document, path)
        stats.add(pages=1)
        yield data
        cursor = _pagination(document).get("next")
        if not data or cursor is None or cursor == "":
            return
        cursor = str(cursor)
        if cursor in seen:
            raise ApiError(f"GET {path}: cursor {cursor!r} repeated on page {page + 1}")
        seen.add(cursor)
        query["page[after]"] = cursor
    stats.add(page_cap_hits=1)
    raise ApiError(f"GET {path}: more than {max_pages} pages (raise NBU_MAX_PAGES)")


def offset_pages(
    client: NetBackupClient,
    path: str,
    params: Mapping[str, object],
    stats: CollectorStats,
    max_pages: int,
    limit: int = STORAGE_PAGE_LIMIT,
) -> Iterator[list]:
    """Advance `page[offset]` by the records received until `meta.pagination.count`."""
    offset = 0
    for _ in range(max_pages):
        query = {**params, "page[limit]": limit, "page[offset]": offset}
        document = client.get_json(path, build_query(query), stats=stats)
        data = _page_data(document, path)
        stats.add(pages=1)
        yield data
        offset += len(data)
        count = _pagination(document).get("count")
        if not data:
            return
        if isinstance(count, int) and not isinstance(count, bool):
            if offset >= count:
                return
        elif len(data) < limit:
            return
    stats.add(page_cap_hits=1)
    raise ApiError(f"GET {path}: more than {max_pages} pages (raise NBU_MAX_PAGES)")
