"""Jobs that finished in the window, aggregated by job type, policy type and status.

Reads `GET /admin/jobs` with `endTime ge <start> and endTime lt <end>`, sorted by `jobId`,
100 per page, following cursors. The window is cut into `concurrency` disjoint half-open
slices whose cursor chains run in parallel; each page is folded into the totals and dropped.

Parent and child jobs: every record counts in `finished`, but bytes and files are summed
only over leaf jobs (`childCount` 0 or absent), because a parent may repeat its children's
totals. See docs/metrics.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise

from ..netbackup.client import NetBackupClient
from ..netbackup.paging import Cancelled, cursor_pages
from ..netbackup.query import odata_and, odata_timestamp
from .base import CollectContext
from .fields import attributes, label, number

PATH = "/admin/jobs"

GroupKey = tuple[str, str, str]  # job_type, policy_type, status


@dataclass
class JobGroup:
    finished: int = 0
    transferred_bytes: int | None = None  # kilobytesTransferred x 1024, leaf jobs
    data_transferred_bytes: int | None = None  # kilobytesDataTransferred x 1024, leaf jobs
    files: int | None = None  # numberOfFiles, leaf jobs


def _plus(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return value if total is None else total + value


@dataclass
class JobsSummary:
    window_seconds: float
    groups: dict[GroupKey, JobGroup] = field(default_factory=dict)
    skipped: int = 0

    @property
    def records(self) -> int:
        return sum(group.finished for group in self.groups.values()) + self.skipped

    def add_page(self, records: Iterable[object]) -> None:
        for record in records:
            self.add(record)

    def add(self, record: object) -> None:
        attrs = attributes(record)
        if attrs is None:
            self.skipped += 1
            return
        key = (label(attrs.get("jobType")), label(attrs.get("policyType")),
               label(attrs.get("status")))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = JobGroup()
        group.finished += 1
        if number(attrs.get("childCount")):  # a parent: its children carry the bytes
            return
        group.transferred_bytes = _plus(group.transferred_bytes,
                                        _kib(attrs.get("kilobytesTransferred")))
        group.data_transferred_bytes = _plus(group.data_transferred_bytes,
                                             _kib(attrs.get("kilobytesDataTransferred")))
        files = number(attrs.get("numberOfFiles"))
        group.files = _plus(group.files, None if files is None else int(files))

    def merge(self, other: JobsSummary) -> None:
        self.skipped += other.skipped
        for key, theirs in other.groups.items():
            ours = self.groups.setdefault(key, JobGroup())
            ours.finished += theirs.finished
            ours.transferred_bytes = _plus(ours.transferred_bytes, theirs.transferred_bytes)
            ours.data_transferred_bytes = _plus(ours.data_transferred_bytes,
                                                theirs.data_transferred_bytes)
            ours.files = _plus(ours.files, theirs.files)


def _kib(value: object) -> int | None:
    parsed = number(value)
    return None if parsed is None or parsed < 0 else int(parsed * 1024)


def split_window(start_ms: int, end_ms: int, parts: int) -> list[tuple[int, int]]:
    """Disjoint half-open [start, end) millisecond slices that cover the window exactly."""
    parts = max(1, min(parts, end_ms - start_ms)) if end_ms > start_ms else 1
    bounds = [start_ms + (end_ms - start_ms) * i // parts for i in range(parts + 1)]
    return list(pairwise(bounds))


def _as_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def slice_filter(start_ms: int, end_ms: int) -> str:
    return odata_and(f"endTime ge {odata_timestamp(_as_datetime(start_ms))}",
                     f"endTime lt {odata_timestamp(_as_datetime(end_ms))}")


def _collect_slice(client: NetBackupClient, ctx: CollectContext, bounds: tuple[int, int],
                   window_seconds: float, cancel: threading.Event) -> JobsSummary:
    summary = JobsSummary(window_seconds)
    params = {"filter": slice_filter(*bounds), "sort": "jobId"}
    for page in cursor_pages(client, PATH, params, ctx.stats, ctx.max_pages, cancel):
        summary.add_page(page)
        ctx.stats.add(records=len(page))
    return summary


def collect_jobs(client: NetBackupClient, ctx: CollectContext) -> JobsSummary:
    end_ms = int(ctx.now * 1000)
    start_ms = end_ms - int(ctx.job_window * 1000)
    total = JobsSummary(window_seconds=ctx.job_window)
    slices = split_window(start_ms, end_ms, ctx.concurrency)
    cancel = threading.Event()
    with ThreadPoolExecutor(len(slices), thread_name_prefix="jobs") as pool:
        futures = [pool.submit(_collect_slice, client, ctx, bounds, ctx.job_window, cancel)
                   for bounds in slices]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(future.exception() for future in done):
            cancel.set()  # the other chains stop at their next page
        errors = [error for error in (f.exception() for f in futures) if error is not None]
    if errors:
        raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    for future in futures:
        total.merge(future.result())
    ctx.stats.add(skipped=total.skipped)
    return total
