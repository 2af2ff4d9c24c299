"""The run's own families: the only ones in the `nbu_push_` namespace.

They describe the run (its status, each collector's outcome and cost), not NetBackup, so
they are written for every run, a failed one included. Declared as families like a
collector's, over the RunReport; a run family with no series this run is left out.
"""

from __future__ import annotations

import platform
from collections.abc import Callable

from .. import __version__
from ..report import CollectorOutcome, RunReport
from .family import RESERVED_LABELS, RUN_PREFIX, Family


class RunFamily(Family[RunReport]):
    """A family of the run itself: in the reserved namespace, may be labelled `collector`."""

    reserved_labels = RESERVED_LABELS - {"collector"}

    def __post_init__(self) -> None:
        if not self.name.startswith(RUN_PREFIX):
            raise ValueError(f"run family {self.name!r} is not in the {RUN_PREFIX} namespace")
        super().__post_init__()


# name, HELP, the value of one collector's outcome: a series per collector
PER_COLLECTOR: tuple[tuple[str, str, Callable[[CollectorOutcome], float]], ...] = (
    ("nbu_push_collector_success", "1 if the collector succeeded in the last run, else 0.",
     lambda o: int(o.success)),
    ("nbu_push_collector_duration_seconds", "Wall time of the collector in the last run.",
     lambda o: o.duration_seconds),
    ("nbu_push_collector_cpu_seconds",
     "CPU time (user and system) of the collector's thread and of the workers it starts"
     " in the last run.", lambda o: o.stats.cpu_seconds),
    ("nbu_push_api_requests", "NetBackup API requests the collector sent in the last run.",
     lambda o: o.stats.requests),
    ("nbu_push_api_received_bytes",
     "Response body bytes the collector received from NetBackup in the last run.",
     lambda o: o.stats.bytes_received),
    ("nbu_push_records_read", "Records the collector read from NetBackup in the last run.",
     lambda o: o.stats.records),
    ("nbu_push_records_skipped", "Malformed records the collector skipped in the last run.",
     lambda o: o.stats.skipped),
    ("nbu_push_values_skipped",
     "Values the collector left out in the last run (negative, beyond int64 or not a number);"
     " their records still count.", lambda o: o.stats.values_skipped),
    ("nbu_push_page_cap_hits",
     "Page loops of the collector stopped by NBU_MAX_PAGES in the last run.",
     lambda o: o.stats.page_cap_hits),
)


def _per_collector(name: str, documentation: str,
                   value: Callable[[CollectorOutcome], float]) -> RunFamily:
    return RunFamily(name, documentation, ("collector",),
                     lambda report: [((o.name,), value(o)) for o in report.outcomes])


LAST_SUCCESS = "nbu_push_last_success_timestamp_seconds"  # published by a successful run only

BEFORE_COLLECTORS: tuple[RunFamily, ...] = (
    RunFamily("nbu_push_build_info", "nbu-push build; always 1.", ("version", "python_version"),
              lambda report: [((__version__, platform.python_version()), 1)]),
    RunFamily("nbu_push_api_version_info",
              "NetBackup API media-type version used this run; always 1.", ("version",),
              lambda report: [((report.api_version,), 1)] if report.api_version else []),
    RunFamily("nbu_push_success", "1 if every collector succeeded in the last run, else 0.",
              (), lambda report: [((), int(report.success))]),
    RunFamily("nbu_push_last_run_timestamp_seconds", "Unix time the last run started.", (),
              lambda report: [((), report.started_at)]),
    RunFamily(LAST_SUCCESS, "Unix time the last fully successful run started.", (),
              lambda report: [((), report.started_at)] if report.success else []),
    RunFamily("nbu_push_duration_seconds", "Wall time of the last run.", (),
              lambda report: [((), report.duration_seconds)]),
    *(_per_collector(*row) for row in PER_COLLECTOR),
)

SERIES_DROPPED = RunFamily(
    "nbu_push_series_dropped",
    "Series of the metric dropped by the cardinality cap (NBU_MAX_SERIES) in the last run.",
    ("metric",),
    lambda report: [row for o in report.outcomes if o.success for row in o.dropped])
