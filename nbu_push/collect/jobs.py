"""Jobs that finished in the window, aggregated by job type, policy type and status.

Reads `GET /admin/jobs` with `endTime ge <start> and endTime lt <end>`, sorted by `jobId`,
100 per page, following cursors. The window is cut into `concurrency` disjoint half-open
slices whose cursor chains run in parallel; each page is folded into the totals and dropped.
The slices start as equal lengths of time and are re-cut to equal job counts with one
`POST /admin/jobs-count-requests` per slice, so that the chains finish together even when
most jobs end in one backup window.

Parent and child jobs: every record counts in `finished`, but bytes and files are summed
only over leaf jobs (`childCount` 0 or absent), because a parent may repeat its children's
totals. See docs/metrics.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any, cast

import msgspec

from ..errors import ApiError, AuthError, Cancelled, NbuPushError
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label, number
from ..netbackup.paging import cursor_pages
from ..netbackup.query import odata_and, odata_timestamp
from .base import CollectContext, Collector, Family

PATH = "/admin/jobs"
COUNT_PATH = "/admin/jobs-count-requests"
log = logging.getLogger(__name__)

GroupKey = tuple[str, str, str]  # job_type, policy_type, status


class JobAttributes(msgspec.Struct):
    """The only job attributes nbu-push reads; the other ~70 are skipped while decoding."""

    jobType: Any = None
    policyType: Any = None
    status: Any = None
    childCount: Any = None
    kilobytesTransferred: Any = None
    kilobytesDataTransferred: Any = None
    numberOfFiles: Any = None


class JobRecord(msgspec.Struct):
    attributes: JobAttributes | None = None


decode_jobs_page = page_decoder(JobRecord)


@dataclass
class JobGroup:
    finished: int = 0
    transferred_bytes: int | None = None  # kilobytesTransferred x 1024, leaf jobs
    data_transferred_bytes: int | None = None  # kilobytesDataTransferred x 1024, leaf jobs
    files: int | None = None  # numberOfFiles, leaf jobs

    def merge(self, other: JobGroup) -> None:
        self.finished += other.finished
        self.transferred_bytes = _plus(self.transferred_bytes, other.transferred_bytes)
        self.data_transferred_bytes = _plus(self.data_transferred_bytes,
                                            other.data_transferred_bytes)
        self.files = _plus(self.files, other.files)


def _plus(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return value if total is None else total + value


def _count(value: object, scale: int = 1) -> int | None:
    """A non-negative amount times `scale`; anything else is absent."""
    if type(value) is int:  # the common case, without the general coercion
        return value * scale if value >= 0 else None
    parsed = number(value)
    return None if parsed is None or parsed < 0 else int(parsed * scale)


def _is_parent(child_count: object) -> bool:
    return child_count is not None and child_count != 0 and bool(number(child_count))


@dataclass
class JobsSummary:
    window_seconds: float
    # Keyed by the raw (jobType, policyType, status) while reading, which is cheap to hash;
    # `groups` normalizes them to label strings (so 0, "0" and 0.0 are one status).
    _raw: dict[Hashable, JobGroup] = field(default_factory=dict)

    @property
    def groups(self) -> dict[GroupKey, JobGroup]:
        merged: dict[GroupKey, JobGroup] = {}
        for raw_key, group in self._raw.items():
            key = (raw_key if isinstance(raw_key, GroupLabels)
                   else GroupLabels.of(*cast(tuple, raw_key)))
            merged.setdefault(key.labels, JobGroup()).merge(group)
        return merged

    def add_records(self, records: Iterable[JobRecord]) -> int:
        """Fold records in; returns how many were skipped as malformed (no attributes)."""
        skipped = 0
        for record in records:
            attrs = record.attributes
            if attrs is None:
                skipped += 1
                continue
            raw_key: Hashable = (attrs.jobType, attrs.policyType, attrs.status)
            try:
                group = self._raw.get(raw_key)
            except TypeError:  # an unhashable value (list, object): normalize it now
                raw_key = GroupLabels.of(attrs.jobType, attrs.policyType, attrs.status)
                group = self._raw.get(raw_key)
            if group is None:
                group = self._raw[raw_key] = JobGroup()
            group.finished += 1
            if _is_parent(attrs.childCount):  # a parent: its children carry the bytes
                continue
            group.transferred_bytes = _plus(group.transferred_bytes,
                                            _count(attrs.kilobytesTransferred, 1024))
            group.data_transferred_bytes = _plus(group.data_transferred_bytes,
                                                 _count(attrs.kilobytesDataTransferred, 1024))
            group.files = _plus(group.files, _count(attrs.numberOfFiles))
        return skipped

    def merge(self, other: JobsSummary) -> None:
        for key, theirs in other._raw.items():
            self._raw.setdefault(key, JobGroup()).merge(theirs)


@dataclass(frozen=True)
class GroupLabels:
    labels: GroupKey

    @classmethod
    def of(cls, job_type: object, policy_type: object, status: object) -> GroupLabels:
        return cls((label(job_type), label(policy_type), label(status)))


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
                   cancel: threading.Event) -> JobsSummary:
    summary = JobsSummary(ctx.job_window)
    params = {"filter": slice_filter(*bounds), "sort": "jobId"}
    for page in cursor_pages(client, PATH, params, decode_jobs_page, ctx.stats,
                             ctx.max_pages, cancel):
        ctx.stats.add(skipped=summary.add_records(page.records))
    return summary


def count_matching(client: NetBackupClient, ctx: CollectContext, odata_filter: str) -> int:
    """`POST /admin/jobs-count-requests`: how many jobs match the filter."""
    body = {"data": {"type": "jobCount", "attributes": {"filter": odata_filter}}}
    document = client.post_json(COUNT_PATH, body, stats=ctx.stats)
    data = document.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    count = number(attributes.get("count")) if isinstance(attributes, dict) else None
    if count is None or count < 0:
        raise ApiError(f"POST {COUNT_PATH}: no count in the response")
    return int(count)


def count_jobs(client: NetBackupClient, ctx: CollectContext, bounds: tuple[int, int]) -> int:
    """The jobs that ended in one slice of the window."""
    return count_matching(client, ctx, slice_filter(*bounds))


def balanced_bounds(slices: list[tuple[int, int]], counts: list[int], parts: int
                    ) -> list[tuple[int, int]]:
    """Re-cut the window so each part holds about the same number of jobs.

    Jobs are assumed evenly spread inside each counted slice (a piecewise-linear CDF).
    """
    total = sum(counts)
    if total == 0 or len(slices) < 2:
        return slices
    bounds, seen, target = [slices[0][0]], 0, 1
    for (start, end), count in zip(slices, counts, strict=True):
        while target < parts and count and seen + count >= total * target / parts:
            share = (total * target / parts - seen) / count
            bounds.append(start + int((end - start) * share))
            target += 1
        seen += count
    bounds.append(slices[-1][1])
    unique = sorted(set(bounds))
    return list(pairwise(unique))


def plan_slices(client: NetBackupClient, ctx: CollectContext, start_ms: int, end_ms: int,
                pool: ThreadPoolExecutor) -> list[tuple[int, int]]:
    """K equal-time slices, re-cut to equal job counts when the server can count them."""
    slices = split_window(start_ms, end_ms, ctx.concurrency)
    if len(slices) < 2 or not ctx.balance_slices:
        return slices
    try:
        counts = list(pool.map(lambda bounds: count_jobs(client, ctx, bounds), slices))
    except AuthError:
        raise
    except NbuPushError as exc:  # e.g. 406 on 10.3, which counts only with version 6.0
        log.debug("job counts unavailable, using equal time slices: %s", exc)
        return slices
    return balanced_bounds(slices, counts, ctx.concurrency)


def collect_jobs(client: NetBackupClient, ctx: CollectContext) -> JobsSummary:
    end_ms = int(ctx.now * 1000)
    start_ms = end_ms - int(ctx.job_window * 1000)
    total = JobsSummary(window_seconds=ctx.job_window)
    with ThreadPoolExecutor(ctx.concurrency, thread_name_prefix="jobs") as pool:
        slices = plan_slices(client, ctx, start_ms, end_ms, pool)
    cancel = threading.Event()
    with ThreadPoolExecutor(len(slices), thread_name_prefix="jobs") as pool:
        futures = [pool.submit(_collect_slice, client, ctx, bounds, cancel)
                   for bounds in slices]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(future.exception() for future in done):
            cancel.set()  # the other chains stop at their next page
        errors = [error for error in (f.exception() for f in futures) if error is not None]
    if errors:
        raise next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    for future in futures:
        total.merge(future.result())
    return total


JOB_LABELS = ("job_type", "policy_type", "status")


def _leaf_sum(name: str, documentation: str, attribute: str) -> Family[JobsSummary]:
    """A family of a per-group sum over leaf jobs; groups where it is unknown are absent."""

    def samples(summary: JobsSummary):
        for key, group in sorted(summary.groups.items()):
            total = getattr(group, attribute)
            if total is not None:
                yield key, total

    return Family(name, documentation, JOB_LABELS, samples)


COLLECTOR: Collector[JobsSummary] = Collector(
    name="jobs",
    reads="GET /admin/jobs (endTime window, cursor paging), POST /admin/jobs-count-requests",
    permission="|MANAGE|JOBS| view",
    collect=collect_jobs,
    families=(
        Family("nbu_jobs_window_seconds",
               "Length of the window of job end times (NBU_JOB_WINDOW) the job metrics cover.",
               (), lambda summary: [((), summary.window_seconds)]),
        Family("nbu_jobs_finished",
               "Jobs that ended in the window (GET /admin/jobs, endTime), parents and children.",
               JOB_LABELS,
               lambda summary: [(key, group.finished)
                                for key, group in sorted(summary.groups.items())]),
        _leaf_sum("nbu_jobs_transferred_bytes",
                  "Bytes the leaf jobs that ended in the window transferred"
                  " (kilobytesTransferred x 1024, the Activity Monitor's Kilobytes).",
                  "transferred_bytes"),
        _leaf_sum("nbu_jobs_data_transferred_bytes",
                  "Actual data bytes the leaf jobs that ended in the window sent"
                  " (kilobytesDataTransferred x 1024; smaller with deduplication).",
                  "data_transferred_bytes"),
        _leaf_sum("nbu_jobs_transferred_files",
                  "Files the leaf jobs that ended in the window processed (numberOfFiles).",
                  "files"),
    ),
)
