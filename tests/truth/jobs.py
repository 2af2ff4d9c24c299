"""The jobs collector: finished jobs by (jobType, policyType, status) in the window, and the
counters over the jobs that ended since counting began."""

from __future__ import annotations

from dataclasses import dataclass, field

from nbu_push.simulator import Simulator
from nbu_push.simulator.data import Job

from . import Reading, Series, labelled

NAMES = ("job_type", "policy_type", "status")


@dataclass
class Tally:
    """Finished jobs by (jobType, policyType, status); sizes of leaf jobs only."""

    finished: dict[tuple[str, str, str], int] = field(default_factory=dict)
    transferred_bytes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    data_transferred_bytes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    files: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def failed(self) -> int:
        return sum(n for (_, _, status), n in self.finished.items() if int(status) > 1)

    def bytes_by_job_type(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (job_type, _, _), value in self.transferred_bytes.items():
            out[job_type] = out.get(job_type, 0) + value
        return out


def tally(jobs: list[Job], start_ms: int, end_ms: int) -> Tally:
    """The jobs that ended in [start, end)."""
    found = Tally()
    for job in jobs:
        if job.end_ms is None or not start_ms <= job.end_ms < end_ms:
            continue
        key = (job.job_type, job.policy_type, str(job.status))
        found.finished[key] = found.finished.get(key, 0) + 1
        if job.child_count == 0:
            found.transferred_bytes[key] = found.transferred_bytes.get(key, 0) + job.kb * 1024
            found.files[key] = found.files.get(key, 0) + job.files
            if job.kb_data is not None:
                found.data_transferred_bytes[key] = (
                    found.data_transferred_bytes.get(key, 0) + job.kb_data * 1024)
    return found


def window_tally(sim: Simulator, window_seconds: float, end_ms: int | None = None) -> Tally:
    """The window of `window_seconds` ending at `end_ms` (the dataset's anchor)."""
    end = sim.dataset.anchor_ms if end_ms is None else end_ms
    return tally(sim.dataset.jobs, end - int(window_seconds * 1000), end)


def expected(sim: Simulator, reading: Reading) -> Series:
    """The window gauges over the window; the counters over the jobs counted (once every
    label set has been seen in an earlier run)."""
    jobs, until = sim.dataset.jobs, reading.read_until_ms
    if until is None:
        window = window_tally(sim, reading.window_seconds)
    else:
        start = until - int(reading.window_seconds * 1000)
        edge = 3_600_000 if reading.window_seconds >= 7200 else 60_000  # docs/metrics.md
        since = start // edge * edge
        window = tally(jobs, since, until)
    counted = (tally(jobs, reading.counted_since_ms, until)
               if until is not None and reading.counted_since_ms is not None else Tally())
    series: Series = {
        "nbu_jobs_window_seconds": {(): float(reading.window_seconds)},
        "nbu_jobs_finished": labelled(window.finished, NAMES),
        "nbu_jobs_transferred_bytes": labelled(window.transferred_bytes, NAMES),
        "nbu_jobs_data_transferred_bytes": labelled(window.data_transferred_bytes, NAMES),
        "nbu_jobs_transferred_files": labelled(window.files, NAMES),
        "nbu_jobs_finished_total": labelled(counted.finished, NAMES),
        "nbu_jobs_transferred_bytes_total": labelled(counted.transferred_bytes, NAMES),
        "nbu_jobs_data_transferred_bytes_total": labelled(counted.data_transferred_bytes,
                                                          NAMES),
        "nbu_jobs_transferred_files_total": labelled(counted.files, NAMES),
        "nbu_jobs_backfill_in_progress": {(): 0.0},
    }
    if until is not None:
        series["nbu_jobs_read_until_timestamp_seconds"] = {(): until / 1000}
    if reading.counted_since_ms is not None:
        series["nbu_jobs_counted_since_timestamp_seconds"] = {
            (): reading.counted_since_ms / 1000}
    return series
