"""Jobs that ended, each read once: counters, window gauges and the watermark.

A run reads the jobs whose `endTime` lies in `[watermark, primary's clock - NBU_JOB_SETTLE)`:
`GET /admin/jobs` with `endTime ge <start> and endTime lt <end>`, sorted by `jobId`, 100 per
page, following cursors. The interval is cut into `concurrency` disjoint half-open slices
whose cursor chains run in parallel, re-cut to equal job counts with one
`POST /admin/jobs-count-requests` per slice. Each page is folded into per-minute tallies and
dropped. The watermark advances over the slices read completely, in order, and only those
are kept, so a job is never read twice nor skipped (docs/state.md). With no state, the first
run reads the last NBU_JOB_BACKFILL.

Parent and child jobs: every record counts in `finished`, but bytes and files are summed
only over leaf jobs (`childCount` 0 or absent), because a parent may repeat its children's
totals. See docs/metrics.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise

from ..errors import (
    ApiError,
    AuthError,
    Cancelled,
    DeadlineExceeded,
    Incomplete,
    NbuPushError,
)
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import number
from ..netbackup.paging import cursor_pages
from ..netbackup.query import odata_and, odata_timestamp
from ._job_ledger import (
    GroupKey,
    JobGroup,
    JobLedger,
    JobRecord,
    JobTally,
    floor_minute,
)
from .base import CollectContext, Collector, Family, Sample

PATH = "/admin/jobs"
COUNT_PATH = "/admin/jobs-count-requests"
log = logging.getLogger(__name__)

decode_jobs_page = page_decoder(JobRecord)


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


def _read_slice(client: NetBackupClient, ctx: CollectContext, bounds: tuple[int, int],
                cancel: threading.Event) -> JobTally:
    tally = JobTally()
    params = {"filter": slice_filter(*bounds), "sort": "jobId"}
    for page in cursor_pages(client, PATH, params, decode_jobs_page, ctx.stats,
                             ctx.max_pages, cancel):
        ctx.stats.add(skipped=tally.add_records(page.records))
    return tally


@dataclass
class JobsSummary:
    ledger: JobLedger
    windows: tuple[tuple[str, float], ...]  # (label, seconds) of each NBU_JOB_WINDOW
    target_ms: int  # where this run meant to read to; the watermark is behind it if not

    @property
    def groups(self) -> dict[GroupKey, JobGroup]:
        """The first window's groups."""
        return self.ledger.window(self.windows[0][1])

    @property
    def catching_up(self) -> bool:
        return self.ledger.watermark_ms < self.target_ms


def _ledger(ctx: CollectContext, target_ms: int) -> JobLedger:
    """The saved ledger, or a new one that backfills and starts counting at `target_ms`."""
    if ctx.state is not None:
        try:
            ledger = JobLedger.from_json(ctx.state)
        except ValueError as exc:
            log.warning("jobs: the saved job state is invalid (%s); starting afresh", exc)
        else:
            ledger.begin_run()
            return ledger
    backfill = ctx.backfill if ctx.backfill is not None else max(s for _, s in ctx.windows)
    return JobLedger(target_ms - int(backfill * 1000), floor_minute(target_ms))


def _read(client: NetBackupClient, ctx: CollectContext, start_ms: int, end_ms: int
          ) -> list[tuple[tuple[int, int], JobTally | None, BaseException | None]]:
    """Every slice of [start, end), in time order: its tally, or the error that stopped it."""
    with ThreadPoolExecutor(ctx.concurrency, thread_name_prefix="jobs") as pool:
        slices = plan_slices(client, ctx, start_ms, end_ms, pool)
    cancel = threading.Event()
    with ThreadPoolExecutor(len(slices), thread_name_prefix="jobs") as pool:
        futures = [pool.submit(_read_slice, client, ctx, bounds, cancel) for bounds in slices]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(future.exception() for future in done):
            cancel.set()  # the other chains stop at their next page
        wait(futures)
    return [(bounds, None if f.exception() else f.result(), f.exception())
            for bounds, f in zip(slices, futures, strict=True)]


def collect_jobs(client: NetBackupClient, ctx: CollectContext) -> JobsSummary:
    now = client.server_now()
    if now is None:  # the primary sent no Date header: the local clock has to do
        now = ctx.now
    target_ms = int((now - ctx.settle) * 1000)
    ledger = _ledger(ctx, target_ms)
    summary = JobsSummary(ledger, ctx.windows, target_ms)
    if target_ms <= ledger.watermark_ms:  # nothing new (or the primary's clock went back)
        return summary
    started_at = ledger.watermark_ms
    errors: list[BaseException] = []
    for (_, end), tally, error in _read(client, ctx, started_at, target_ms):
        if error is not None or tally is None or errors:
            errors.append(error or Cancelled("stopped"))
            continue  # once a slice is incomplete, no later slice is kept
        ledger.add(tally.buckets(floor_minute(end - 1)), end)
    ledger.prune(max(seconds for _, seconds in ctx.windows) * 1000)
    if not errors:
        return summary
    cause = next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    if ledger.watermark_ms == started_at:
        raise cause  # nothing kept: the state stays as it was
    if isinstance(cause, DeadlineExceeded):  # out of time: what was read is right, publish it
        log.warning("jobs: read up to %s when the run ended (%s); the next run continues",
                    _as_datetime(ledger.watermark_ms).isoformat(), cause)
        return summary
    raise Incomplete(cause, summary)  # keep the progress in the state, publish nothing

JOB_LABELS = ("job_type", "policy_type", "status")
AMOUNTS = ("finished", "transferred_bytes", "data_transferred_bytes", "files")


def _window_label(summary: JobsSummary) -> tuple[str, ...]:
    """A `window` label only when several windows are configured."""
    return ("window",) if len(summary.windows) > 1 else ()


def _per_window(summary: JobsSummary) -> Iterator[tuple[tuple[str, ...], dict]]:
    several = len(summary.windows) > 1
    for name, seconds in summary.windows:
        yield ((name,) if several else ()), summary.ledger.window(seconds)


def _window_gauge(name: str, documentation: str, attribute: str) -> Family[JobsSummary]:
    """Per window and group; a group where the amount is unknown has no series."""

    def samples(summary: JobsSummary) -> Iterator[Sample]:
        for prefix, groups in _per_window(summary):
            for key, group in sorted(groups.items()):
                total = getattr(group, attribute)
                if total is not None:
                    yield (*prefix, *key), total

    return Family(name, documentation, JOB_LABELS, samples, label_prefix=_window_label)


def _counter(name: str, documentation: str, index: int) -> Family[JobsSummary]:
    def samples(summary: JobsSummary) -> Iterator[Sample]:
        for key, amounts in sorted(summary.ledger.counters.items()):
            if amounts[index] is not None:
                yield key, amounts[index]

    return Family(name, documentation, JOB_LABELS, samples, counter=True)


def _windows_samples(summary: JobsSummary) -> list[Sample]:
    several = len(summary.windows) > 1
    return [(((name,) if several else ()), seconds) for name, seconds in summary.windows]


COUNTED = " that ended since nbu_jobs_counted_since_timestamp_seconds"
COLLECTOR: Collector[JobsSummary] = Collector(
    name="jobs",
    reads="GET /admin/jobs (endTime from the watermark, cursor paging),"
          " POST /admin/jobs-count-requests",
    permission="|MANAGE|JOBS| view",
    collect=collect_jobs,
    state_of=lambda summary: summary.ledger.to_json(),
    connections=0,  # its chains use the NBU_CONCURRENCY connections the client adds
    families=(
        Family("nbu_jobs_window_seconds",
               "Length of the window of job end times (NBU_JOB_WINDOW) the job metrics cover.",
               (), _windows_samples, label_prefix=_window_label),
        _window_gauge("nbu_jobs_finished",
                      "Jobs that ended in the window (GET /admin/jobs, endTime), parents and"
                      " children.", "finished"),
        _window_gauge("nbu_jobs_transferred_bytes",
                      "Bytes the leaf jobs that ended in the window transferred"
                      " (kilobytesTransferred x 1024, the Activity Monitor's Kilobytes).",
                      "transferred_bytes"),
        _window_gauge("nbu_jobs_data_transferred_bytes",
                      "Actual data bytes the leaf jobs that ended in the window sent"
                      " (kilobytesDataTransferred x 1024; smaller with deduplication).",
                      "data_transferred_bytes"),
        _window_gauge("nbu_jobs_transferred_files",
                      "Files the leaf jobs that ended in the window processed (numberOfFiles).",
                      "files"),
        _counter("nbu_jobs_finished_total",
                 f"Jobs (GET /admin/jobs, parents and children){COUNTED}.", 0),
        _counter("nbu_jobs_transferred_bytes_total",
                 f"Bytes (kilobytesTransferred x 1024) of the leaf jobs{COUNTED}.", 1),
        _counter("nbu_jobs_data_transferred_bytes_total",
                 f"Actual data bytes (kilobytesDataTransferred x 1024) of the leaf jobs{COUNTED}.",
                 2),
        _counter("nbu_jobs_transferred_files_total",
                 f"Files (numberOfFiles) of the leaf jobs{COUNTED}.", 3),
        Family("nbu_jobs_read_until_timestamp_seconds",
               "The watermark: every job that ended before this time (the primary's clock) has"
               " been read.", (), lambda s: [((), s.ledger.watermark_ms / 1000)]),
        Family("nbu_jobs_counted_since_timestamp_seconds",
               "The counters (nbu_jobs_*_total) count jobs that ended at or after this time,"
               " when the run state began.", (),
               lambda s: [((), s.ledger.counting_from_ms / 1000)]),
        Family("nbu_jobs_backfill_in_progress",
               "1 while the watermark is behind the primary's clock minus NBU_JOB_SETTLE (a"
               " backfill or a catch-up continues next run), else 0.",
               (), lambda s: [((), int(s.catching_up))]),
    ),
)
