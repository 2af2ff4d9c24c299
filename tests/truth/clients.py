"""The clients collector: per client and policy, from the carrying jobs read in
[read_from, read_until), and for configured clients with no success there, a look-up: per
backup job type, their carrying jobs newest first down to the first usable one."""

from __future__ import annotations

from nbu_push.simulator import Simulator
from nbu_push.simulator.data import Job, carriers

from . import Reading, Series


def _fact() -> dict:
    return {"success": None, "attempt": None, "status": None, "failures": [], "snapshot": None,
            "duplicate": None, "replicate": None}


def _fold(fact: dict, job: Job, kind: str) -> None:
    end = job.end_ms or 0
    if kind != "backup":
        if job.status <= 1:
            fact[kind] = max(fact[kind] or 0, end)
        return
    if fact["attempt"] is None or end >= fact["attempt"]:
        fact["attempt"], fact["status"] = end, job.status
    if job.status <= 1:
        fact["success"] = max(fact["success"] or 0, end)
    elif end not in fact["failures"]:  # a job read twice (the window, a look-up) is one
        fact["failures"].append(end)


def expected(sim: Simulator, reading: Reading) -> Series:
    jobs, configured = sim.dataset.jobs, sim.configured
    read_from_ms = reading.read_from_ms if reading.read_from_ms is not None else 0
    read_until_ms = (reading.read_until_ms if reading.read_until_ms is not None
                     else sim.dataset.anchor_ms)
    kinds = carriers(jobs)
    facts: dict[tuple[str, str, str], dict] = {}
    for job in jobs:
        kind = kinds.get(job.job_id)
        if kind and job.end_ms is not None and read_from_ms <= job.end_ms < read_until_ms:
            _fold(facts.setdefault((job.client, job.policy_name, job.policy_type), _fact()),
                  job, kind)
    succeeded = {client for (client, _, _), fact in facts.items() if fact["success"]}
    for client in configured:
        if client in succeeded:
            continue
        for job_type in ("BACKUP", "SNAPDUPE"):
            newest_first = sorted((job for job in jobs if job.client == client
                                   and job.job_type == job_type and job.end_ms is not None
                                   and kinds.get(job.job_id) == "backup"),
                                  key=lambda job: -(job.end_ms or 0))
            for job in newest_first:
                _fold(facts.setdefault((client, job.policy_name, job.policy_type), _fact()),
                      job, "backup")
                if job.status <= 1:
                    break
    series: Series = {name: {} for name in (
        "nbu_client_last_success_timestamp_seconds", "nbu_client_last_attempt_timestamp_seconds",
        "nbu_client_last_status", "nbu_client_failures_since_success",
        "nbu_client_last_snapshot_timestamp_seconds", "nbu_client_last_copy_timestamp_seconds")}
    for (client, policy, policy_type), fact in facts.items():
        labels = (("client", client), ("policy_name", policy), ("policy_type", policy_type))
        if fact["success"]:
            series["nbu_client_last_success_timestamp_seconds"][labels] = fact["success"] / 1000
        if fact["attempt"] is not None:
            series["nbu_client_last_attempt_timestamp_seconds"][labels] = fact["attempt"] / 1000
            series["nbu_client_last_status"][labels] = float(fact["status"])
            series["nbu_client_failures_since_success"][labels] = float(
                sum(1 for end in fact["failures"] if end > (fact["success"] or 0)))
        if fact["snapshot"]:
            series["nbu_client_last_snapshot_timestamp_seconds"][labels] = \
                fact["snapshot"] / 1000
        for copy in ("duplicate", "replicate"):
            if fact[copy]:
                series["nbu_client_last_copy_timestamp_seconds"][
                    (("client", client), ("copy", copy), ("policy_name", policy),
                     ("policy_type", policy_type))] = fact[copy] / 1000
    series["nbu_client_lookups_pending"] = {(): 0.0}
    return series
