"""The vendor's two paging styles, as the simulator's endpoints serve them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .endpoints import Request, Response, error
from .odata import FilterError, record_filter

OFFSET_PAGINATION = ("count", "pages", "page", "offset", "limit", "first", "last", "next",
                     "prev")


def offset_page(request: Request, records: Sequence[bytes],
                meta: tuple[str, ...] = OFFSET_PAGINATION, max_limit: int = 500,
                min_limit: int = 1) -> Response:
    """`page[offset]` and `page[limit]` (default 10); `meta` names the pagination fields to
    send (empty: no `meta` at all)."""
    try:
        limit = int(request.params.get("page[limit]", "10"))
        offset = int(request.params.get("page[offset]", "0"))
    except ValueError:
        limit, offset = -1, -1
    if not min_limit <= limit <= max_limit or offset < 0:
        return error(400, "Bad request.",
                     [f"page[limit] {min_limit}..{max_limit}, page[offset] >= 0"])
    if request.empty:
        records = []
    count = len(records)
    pages = math.ceil(count / limit) if limit else 0
    pagination = {"count": count, "pages": pages, "page": offset // limit if limit else 0,
                  "offset": offset, "limit": limit, "first": 0,
                  "last": max(0, (pages - 1) * limit)}
    if limit and offset + limit < count:
        pagination["next"] = offset + limit
    if offset > 0:
        pagination["prev"] = max(0, offset - limit)
    body = b'{"links":{},"data":[' + b",".join(records[offset:offset + limit]) + b"]"
    if meta:
        shown = {name: pagination[name] for name in meta if name in pagination}
        body += b',"meta":{"pagination":' + json.dumps(shown).encode() + b"}"
    return Response(200, body + b"}")


def cursor_page(request: Request, records: Sequence[tuple[str, bytes]], default_limit: int,
                max_limit: int) -> Response:
    """`page[after]` (a record's cursor) and `page[limit]`; `next` is the last record's
    cursor while more follow. `records` are (cursor, record) in the served order."""
    try:
        limit = int(request.params.get("page[limit]", str(default_limit)))
    except ValueError:
        limit = -1
    if not 0 <= limit <= max_limit:
        return error(400, "Bad request.", [f"page[limit] 0..{max_limit}"])
    start = 0
    if "page[after]" in request.params:
        cursors = [cursor for cursor, _ in records]
        if request.params["page[after]"] not in cursors:
            return error(400, "Bad request.", ["unknown page cursor"])
        start = cursors.index(request.params["page[after]"]) + 1
    page = [] if request.empty else records[start:start + limit]
    pagination: dict[str, object] = {"limit": limit}
    if page and start + len(page) < len(records):
        pagination["next"] = page[-1][0]
    return Response(200, b'{"links":{},"data":[' + b",".join(record for _, record in page)
                    + b'],"meta":{"pagination":' + json.dumps(pagination).encode() + b"}}")


def filtered_page(request: Request, records: Sequence[dict], fields: Mapping[str, Sequence[str]],
                  read: dict[str, Callable[[dict], Any]] | None = None, **paging: Any
                  ) -> Response:
    """An offset page of the records that pass `filter`, on the fields the endpoint's
    document lists with their operators; a field is an attribute unless `read` says how to
    find it (e.g. `alertId`, the record's id)."""
    readers = read or {}
    try:
        keep = record_filter(request.params.get("filter", ""), {
            name: (readers.get(name) or _attribute(name), set(ops))
            for name, ops in fields.items()})
    except FilterError as exc:
        return error(400, str(exc), code=9401)
    return offset_page(request, [json.dumps(record, separators=(",", ":")).encode()
                                 for record in records if keep(record)], **paging)


def _attribute(name: str) -> Callable[[dict], Any]:
    return lambda record: record.get("attributes", {}).get(name)
