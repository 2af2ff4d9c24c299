"""Jobs that ended, each read once: counters, window gauges and the watermark.

A run reads the jobs whose `endTime` lies in `[watermark, primary's clock - NBU_JOB_SETTLE)`:
`GET /admin/jobs` with `endTime ge <start> and endTime lt <end>`, sorted by `endTime`, 100 per
page, following cursors. The interval is cut into `concurrency` disjoint half-open slices
of about equal job counts (`POST /admin/jobs-count-requests`, netbackup/slicing.py) whose
cursor chains run in parallel. Each page is folded into per-minute tallies and
dropped. The watermark advances over the slices read completely, in order, and only those
are kept, so a job is never read twice nor skipped (docs/state.md). With no state, the first
run reads the last NBU_JOB_BACKFILL.

Parent and child jobs: every record counts in `finished`, but bytes and files are summed
only over leaf jobs (`childCount` 0 or absent), because a parent may repeat its children's
totals. See docs/metrics.md.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from ..config import env
from ..metrics.family import Family, Sample
from ..netbackup import slicing
from ..netbackup.client import NetBackupClient
from ..netbackup.fields import timestamp
from ..netbackup.jobs import (
    PATH,
    JobRecord,
    count_matching,
    decode_jobs_page,
    slice_filter,
    utc_datetime,
)
from ..netbackup.paging import JOBS_PAGE_LIMIT, cursor_pages
from ..runtime.errors import (
    AuthError,
    Cancelled,
    DeadlineExceeded,
    Incomplete,
    NbuPushError,
)
from ._jobs.cells import HOUR_MS, HOURLY_FROM_MS, GroupKey, JobGroup, floor_minute
from ._jobs.ledger import JobLedger, minute_detail_ms
from ._jobs.observations import Attempts, Backups, ClientKey
from ._jobs.tally import JobTally
from .base import CollectContext, Collector

log = logging.getLogger(__name__)
PAGES_PER_SLICE = 10  # the fewest expected pages a slice of its own is worth


def count_jobs(client: NetBackupClient, ctx: CollectContext, bounds: tuple[int, int]) -> int:
    """The jobs that ended in one slice of the window."""
    return count_matching(client, ctx.stats, slice_filter(*bounds))


def plan_slices(client: NetBackupClient, ctx: CollectContext, start_ms: int, end_ms: int,
                pool: ThreadPoolExecutor, parts: int | None = None) -> list[tuple[int, int]]:
    """Slices of about equal job counts when the server can count them, else equal times."""
    parts = parts or ctx.concurrency
    if parts == 1:  # nothing to balance: no count
        return [(start_ms, end_ms)]
    if not ctx.balance_slices:
        return slicing.split_window(start_ms, end_ms, parts)
    count = ctx.stats.on_cpu(functools.partial(count_jobs, client, ctx))
    try:
        return slicing.plan(start_ms, end_ms, parts,
                            lambda ranges: list(pool.map(count, ranges)))
    except AuthError:
        raise
    except NbuPushError as exc:  # e.g. 406 on 10.3, which counts only with version 6.0
        log.debug("job counts unavailable, using equal time slices: %s", exc)
        return slicing.split_window(start_ms, end_ms, parts)


@dataclass
class SliceRead:
    bounds: tuple[int, int]
    tally: JobTally  # every job of the slice that ended before `read_until`, and no other
    read_until: int
    error: BaseException | None = None


def _end_of(record: JobRecord) -> str | None:
    end = record.attributes.endTime if record.attributes is not None else None
    return end if isinstance(end, str) else None


def _read_slice(client: NetBackupClient, ctx: CollectContext, bounds: tuple[int, int],
                cancel: threading.Event, new_tally: Callable[[], JobTally]) -> SliceRead:
    """One cursor chain over a slice, in `endTime` order, so that whatever stops it, the
    slice is read completely up to the last `endTime` seen: a page's jobs are folded except
    those ending exactly when its last job ends (the next page may hold more of them)."""
    read = SliceRead(bounds, new_tally(), bounds[0])
    held: list[JobRecord] = []
    params = {"filter": slice_filter(*bounds), "sort": "endTime"}
    try:
        for page in cursor_pages(client, PATH, params, decode_jobs_page, ctx.stats,
                                 ctx.max_pages, cancel):
            records = held + page.records
            last = _end_of(records[-1]) if records else None
            cut = len(records)
            while last is not None and cut and _end_of(records[cut - 1]) == last:
                cut -= 1
            ctx.stats.add(skipped=read.tally.add_records(records[:cut]))
            held = records[cut:]
            until = timestamp(last) if last is not None else None
            if until is not None:
                read.read_until = max(read.read_until, min(int(until * 1000), bounds[1]))
        ctx.stats.add(skipped=read.tally.add_records(held))
        read.read_until = bounds[1]
    except Exception as exc:  # what was read completely stays; the rest is read next run
        read.error = exc
        if read.tally.unreadable_ends:  # partial progress is exact only in endTime order
            read.tally, read.read_until = new_tally(), bounds[0]
    ctx.stats.add(values_skipped=read.tally.values_skipped)
    return read


@dataclass
class JobsSummary:
    ledger: JobLedger
    windows: tuple[tuple[str, float], ...]  # (label, seconds) of each NBU_JOB_WINDOW
    target_ms: int  # where this run meant to read to; the watermark is behind it if not
    observed: dict[ClientKey, Attempts] = field(default_factory=dict)  # backups per client
    # and policy this run read (for the clients collector; reading one again is harmless)

    _windows: dict[float, dict[GroupKey, JobGroup]] = field(default_factory=dict, repr=False)

    def window(self, seconds: float) -> dict[GroupKey, JobGroup]:
        """The groups of one window, summed once (four families read each)."""
        if seconds not in self._windows:
            self._windows[seconds] = self.ledger.window(seconds)
        return self._windows[seconds]

    @property
    def groups(self) -> dict[GroupKey, JobGroup]:
        """The first window's groups."""
        return self.window(self.windows[0][1])

    @property
    def catching_up(self) -> bool:
        return self.ledger.watermark_ms < self.target_ms


def _ledger(ctx: CollectContext, target_ms: int) -> JobLedger:
    """The saved ledger, or a new one that backfills and starts counting at `target_ms`."""
    if ctx.saved is not None:
        try:
            ledger = JobLedger.from_json(ctx.state_with_tables(("buckets", "hours")))
        except ValueError as exc:
            log.warning("jobs: the saved job state is invalid (%s); starting afresh", exc)
        else:
            ledger.begin_run()
            return ledger
    backfill = ctx.backfill if ctx.backfill is not None else max(s for _, s in ctx.windows)
    return JobLedger(target_ms - int(backfill * 1000), floor_minute(target_ms))


def slices_for(concurrency: int, gap_ms: int, total_ms: int, rate: float | None) -> int:
    """How many slices a gap is cut into: its share of NBU_CONCURRENCY by length, and no more
    than its expected pages fill (PAGES_PER_SLICE each) when the recent rate of jobs tells:
    a slice costs a count and a partly filled page, which a gap of a few pages cannot earn
    back in time saved."""
    parts = max(1, round(concurrency * gap_ms / total_ms))
    if rate is None:  # a first run: nothing to go by
        return parts
    pages = math.ceil(rate * gap_ms / JOBS_PAGE_LIMIT)
    return max(1, min(parts, pages // PAGES_PER_SLICE))


def _read(client: NetBackupClient, ctx: CollectContext, gaps: list[tuple[int, int]],
          new_tally: Callable[[], JobTally], rate: float | None = None) -> list[SliceRead]:
    """Every gap cut into slices (slices_for), read in parallel."""
    total = sum(end - start for start, end in gaps)
    with ThreadPoolExecutor(ctx.concurrency, thread_name_prefix="jobs") as pool:
        slices = [bounds for start, end in gaps for bounds in plan_slices(
            client, ctx, start, end, pool,
            slices_for(ctx.concurrency, end - start, total, rate))]
    cancel = threading.Event()
    with ThreadPoolExecutor(len(slices), thread_name_prefix="jobs") as pool:
        futures = [pool.submit(ctx.stats.on_cpu(_read_slice), client, ctx, bounds, cancel,
                               new_tally)
                   for bounds in slices]
        for future in as_completed(futures):
            if future.result().error is not None:
                cancel.set()  # the other chains stop at their next page
    return [future.result() for future in futures]


def collect_jobs(client: NetBackupClient, ctx: CollectContext) -> JobsSummary:
    now = client.server_now()
    if now is None:  # the primary sent no Date header: the local clock has to do
        now = ctx.now
    target_ms = int((now - ctx.settle) * 1000)
    ledger = _ledger(ctx, target_ms)
    summary = JobsSummary(ledger, ctx.windows, target_ms)
    if target_ms <= ledger.watermark_ms:  # nothing new (or the primary's clock went back)
        return summary
    before = (ledger.watermark_ms, list(ledger.read_ahead))
    keep_ms = int(max(seconds for _, seconds in ctx.windows) * 1000)
    errors: list[BaseException] = []
    backups = Backups()

    # a window summed by the hour starts at the hour edge before it: keep that hour's jobs
    tally_keep_ms = keep_ms + HOUR_MS if keep_ms >= HOURLY_FROM_MS else keep_ms

    def new_tally() -> JobTally:  # a slice's
        return JobTally(tally_keep_ms, ledger.counting_from_ms, backups)

    for read in _read(client, ctx, ledger.gaps(target_ms), new_tally, ledger.recent_rate()):
        start, _ = read.bounds
        if read.read_until > start:
            ledger.add(read.tally.take_buckets(floor_minute(read.read_until - 1)), start,
                       read.read_until)
        if read.error is not None:
            errors.append(read.error)
    for key, attempts in backups.by_client().items():  # times parsed once per client
        folded = attempts.in_ms()
        if folded is not None:
            summary.observed[key] = folded
    ledger.prune(keep_ms, minute_detail_ms(seconds for _, seconds in ctx.windows))
    if not errors:
        return summary
    cause = next((e for e in errors if not isinstance(e, Cancelled)), errors[0])
    if (ledger.watermark_ms, ledger.read_ahead) == before:
        raise cause  # nothing kept: the state stays as it was
    if isinstance(cause, DeadlineExceeded) and not client.deadline.interrupted:
        # out of time: what was read is right and complete up to the watermark: publish it
        log.warning("jobs: read up to %s when the run ended (%s); the next run continues",
                    utc_datetime(ledger.watermark_ms).isoformat(), cause)
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
        yield ((name,) if several else ()), summary.window(seconds)


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
    probe="/admin/jobs",
    reads="GET /admin/jobs (endTime from the watermark, cursor paging),"
          " POST /admin/jobs-count-requests",
    permission="|MANAGE|JOBS| view",
    collect=collect_jobs,
    state_of=lambda summary: summary.ledger.to_json(),
    connections=0,  # its chains use the NBU_CONCURRENCY connections the client adds
    families=(
        Family("nbu_jobs_window_seconds",
               f"Length of the window of job end times ({env('job_window')}) the job metrics"
               " cover.",
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
               f"1 while the watermark is behind the primary's clock minus {env('job_settle')} (a"
               " backfill or a catch-up continues next run), else 0.",
               (), lambda s: [((), int(s.catching_up))]),
    ),
)
