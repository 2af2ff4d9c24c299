"""The catalog_backup collector: the newest good hot catalog backup, its root job's end,
whatever the root's type."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    good = [job.end_ms for job in sim.dataset.jobs if job.policy_type == "NBU_CATALOG"
            and job.parent_id == job.job_id and job.state == "DONE" and job.status <= 1
            and job.end_ms is not None]
    return {"nbu_catalog_backup_last_success_timestamp_seconds":
            {(): max(good) / 1000} if good else {}}
