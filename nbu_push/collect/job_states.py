"""Live job states: how many jobs are running, queued or stuck, and the oldest of them.

One `POST /admin/jobs-count-requests` per state (`state eq '<STATE>'`; the filter has no
`or`), and for ACTIVE and QUEUED one `GET /admin/jobs?filter=state eq '<STATE>'
&sort=startTime&page[limit]=1`: the job that started first. Seven small requests, in
parallel, whatever the number of jobs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.jobs import COUNT_PATH, PATH, count_matching, first_job_time
from ..netbackup.query import odata_string
from .base import CollectContext, Collector

STATES = ("ACTIVE", "QUEUED", "REQUEUED", "SUSPENDED", "INCOMPLETE")
AGED_STATES = ("ACTIVE", "QUEUED")


@dataclass
class JobStates:
    current: dict[str, int] = field(default_factory=dict)  # state -> jobs now
    oldest_start: dict[str, float] = field(default_factory=dict)  # state -> Unix time


def _state_filter(state: str) -> str:
    return f"state eq {odata_string(state)}"


def _oldest_start(client: NetBackupClient, ctx: CollectContext, state: str) -> float | None:
    return first_job_time(client, ctx.stats, _state_filter(state), "startTime", "startTime")


def collect_job_states(client: NetBackupClient, ctx: CollectContext) -> JobStates:
    summary = JobStates()
    with ThreadPoolExecutor(len(STATES) + len(AGED_STATES), thread_name_prefix="states") as pool:
        count, oldest_start = ctx.stats.on_cpu(count_matching), ctx.stats.on_cpu(_oldest_start)
        counts = {state: pool.submit(count, client, ctx.stats, _state_filter(state))
                  for state in STATES}
        oldest = {state: pool.submit(oldest_start, client, ctx, state)
                  for state in AGED_STATES}
        for state, future in counts.items():
            summary.current[state] = future.result()
        for state, started in oldest.items():
            started_at = started.result()
            if started_at is not None:
                summary.oldest_start[state] = started_at
    return summary


COLLECTOR: Collector[JobStates] = Collector(
    name="job_states",
    probe="/admin/jobs",
    reads=f"POST {COUNT_PATH} (one per state), GET {PATH} (oldest ACTIVE and QUEUED job)",
    permission="|MANAGE|JOBS| view",
    collect=collect_job_states,
    connections=len(STATES) + len(AGED_STATES),
    families=(
        Family("nbu_jobs_current",
               "Jobs now in the state (POST /admin/jobs-count-requests, state eq).",
               ("state",), lambda s: [((state,), n) for state, n in s.current.items()]),
        Family("nbu_jobs_oldest_start_timestamp_seconds",
               "Start time of the oldest job now in the state (GET /admin/jobs, startTime,"
               " sort=startTime); absent when no job is in it.",
               ("state",), lambda s: [((state,), t) for state, t in s.oldest_start.items()]),
    ),
)
