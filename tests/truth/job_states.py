"""The job_states collector: jobs not yet done by state, and the oldest start of each."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series

LIVE_STATES = ("ACTIVE", "QUEUED", "REQUEUED", "SUSPENDED", "INCOMPLETE")


def expected(sim: Simulator, reading: Reading) -> Series:
    current = dict.fromkeys(LIVE_STATES, 0)
    oldest: dict[str, int] = {}
    for job in sim.dataset.jobs:
        if job.state in current:
            current[job.state] += 1
        if job.state in ("ACTIVE", "QUEUED"):
            oldest[job.state] = min(job.start_ms, oldest.get(job.state, job.start_ms))
    return {"nbu_jobs_current": {(("state", s),): float(n) for s, n in current.items()},
            "nbu_jobs_oldest_start_timestamp_seconds": {
                (("state", s),): ms / 1000 for s, ms in oldest.items()}}
