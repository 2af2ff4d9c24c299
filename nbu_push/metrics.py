"""The metric contract: a RunReport becomes one fresh CollectorRegistry.

Every family is a gauge (values are per run), every series carries `site`, and data
families exist only for collectors that succeeded, so a failed collector never publishes
zeros. docs/metrics.md documents each name; tests pin them.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from . import __version__
from .collect.jobs import JobsSummary
from .collect.storage import StorageSummary
from .report import CollectorOutcome, RunReport

Row = tuple[Sequence[str], float]
LAST_SUCCESS = "nbu_push_last_success_timestamp_seconds"

JOB_LABELS = ("job_type", "policy_type", "status")
UNIT_LABELS = ("storage_unit", "storage_category", "storage_type")


def _gauge(site: str, name: str, documentation: str, labels: Sequence[str],
           rows: Iterable[Row]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["site", *labels])
    for values, value in rows:
        family.add_metric([site, *values], value)
    return family


def _status_families(report: RunReport) -> Iterator[tuple]:
    outcomes = report.outcomes
    yield ("nbu_push_build_info", "nbu-push build; always 1.", ("version", "python_version"),
           [((__version__, platform.python_version()), 1)])
    if report.api_version:
        yield ("nbu_push_api_version_info",
               "NetBackup API media-type version used this run; always 1.", ("version",),
               [((report.api_version,), 1)])
    yield ("nbu_push_success", "1 if every collector succeeded in the last run, else 0.", (),
           [((), int(report.success))])
    yield ("nbu_push_last_run_timestamp_seconds", "Unix time the last run started.", (),
           [((), report.started_at)])
    if report.success:
        yield (LAST_SUCCESS, "Unix time the last fully successful run started.", (),
               [((), report.started_at)])
    yield ("nbu_push_duration_seconds", "Wall time of the last run.", (),
           [((), report.duration_seconds)])
    per_collector: list[tuple[str, str, Callable[[CollectorOutcome], float]]] = [
        ("nbu_push_collector_success", "1 if the collector succeeded in the last run, else 0.",
         lambda o: int(o.success)),
        ("nbu_push_collector_duration_seconds", "Wall time of the collector in the last run.",
         lambda o: o.duration_seconds),
        ("nbu_push_api_requests", "NetBackup API requests the collector sent in the last run.",
         lambda o: o.stats.requests),
        ("nbu_push_api_received_bytes",
         "Response body bytes the collector received from NetBackup in the last run.",
         lambda o: o.stats.bytes_received),
        ("nbu_push_records_read", "Records the collector read from NetBackup in the last run.",
         lambda o: o.stats.records),
        ("nbu_push_records_skipped",
         "Malformed records the collector skipped in the last run.",
         lambda o: o.stats.skipped),
        ("nbu_push_page_cap_hits",
         "Page loops of the collector stopped by NBU_MAX_PAGES in the last run.",
         lambda o: o.stats.page_cap_hits),
    ]
    for name, documentation, value in per_collector:
        yield (name, documentation, ("collector",),
               [((o.name,), value(o)) for o in outcomes])


def _jobs_families(jobs: JobsSummary) -> Iterator[tuple]:
    groups = sorted(jobs.groups.items())
    yield ("nbu_jobs_window_seconds",
           "Length of the window of job end times (NBU_JOB_WINDOW) the job metrics cover.", (),
           [((), jobs.window_seconds)])
    yield ("nbu_jobs_finished",
           "Jobs that ended in the window (GET /admin/jobs, endTime), parents and children.",
           JOB_LABELS, [(key, group.finished) for key, group in groups])
    leaf_sums = [
        ("nbu_jobs_transferred_bytes",
         "Bytes the leaf jobs that ended in the window transferred (kilobytesTransferred x 1024,"
         " the Activity Monitor's Kilobytes).", lambda g: g.transferred_bytes),
        ("nbu_jobs_data_transferred_bytes",
         "Actual data bytes the leaf jobs that ended in the window sent"
         " (kilobytesDataTransferred x 1024; smaller with deduplication).",
         lambda g: g.data_transferred_bytes),
        ("nbu_jobs_transferred_files",
         "Files the leaf jobs that ended in the window processed (numberOfFiles).",
         lambda g: g.files),
    ]
    for name, documentation, value in leaf_sums:
        yield (name, documentation, JOB_LABELS,
               [(key, value(group)) for key, group in groups if value(group) is not None])


def _storage_families(storage: StorageSummary) -> Iterator[tuple]:
    units = sorted(storage.units.values(), key=lambda unit: unit.name)
    for name, field, documentation in (
        ("nbu_storage_unit_free_bytes", "free_bytes",
         "Free capacity of the storage unit (GET /storage/storage-units, freeCapacityBytes)."),
        ("nbu_storage_unit_used_bytes", "used_bytes",
         "Used capacity of the storage unit (GET /storage/storage-units, usedCapacityBytes)."),
        ("nbu_storage_unit_capacity_bytes", "capacity_bytes",
         "Total capacity of the storage unit (GET /storage/storage-units,"
         " totalCapacityBytes)."),
    ):
        yield (name, documentation, UNIT_LABELS,
               [((u.name, u.category, u.storage_type), getattr(u, field))
                for u in units if getattr(u, field) is not None])


DATA_FAMILIES: dict[str, Callable[[object], Iterator[tuple]]] = {
    "jobs": _jobs_families,  # type: ignore[dict-item]
    "storage": _storage_families,  # type: ignore[dict-item]
}


class _Families:
    """A registry collector that yields a fixed list of families."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self._families


def _capped(rows: list[Row], cap: int) -> tuple[list[Row], int]:
    """At most `cap` series, the largest values first; how many were dropped."""
    if len(rows) <= cap:
        return rows, 0
    kept = sorted(rows, key=lambda row: row[1], reverse=True)[:cap]
    return sorted(kept, key=lambda row: tuple(row[0])), len(rows) - cap


def build_families(report: RunReport) -> list[GaugeMetricFamily]:
    specs = list(_status_families(report))
    dropped: list[Row] = []
    for outcome in report.outcomes:
        if outcome.success and outcome.name in DATA_FAMILIES:
            for name, documentation, labels, rows in DATA_FAMILIES[outcome.name](outcome.data):
                rows, lost = _capped(list(rows), report.max_series)
                specs.append((name, documentation, labels, rows))
                dropped.append(((name,), lost))
    if dropped:
        specs.append(("nbu_push_series_dropped",
                      "Series of the metric dropped by the cardinality cap (NBU_MAX_SERIES)"
                      " in the last run.", ("metric",), dropped))
    return [_gauge(report.site, *spec) for spec in specs]


def build_registry(report: RunReport) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_Families(build_families(report)))
    return registry


def render(report: RunReport) -> bytes:
    """The exposition, serialized once: the same bytes go to every sink."""
    return generate_latest(build_registry(report))
