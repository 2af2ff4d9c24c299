"""The metric contract: a RunReport becomes one text exposition (format 0.0.4).

Every series carries `site`, and data families exist only for collectors that succeeded, so
a failed collector never publishes zeros. docs/metrics.md documents each name; tests pin
them.

The text is written by publish/exposition.py straight from the families, byte for byte
what prometheus_client's `generate_latest` writes for the same families, at a quarter of
the cost (see there).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Sequence

from . import __version__
from .collect import collectors
from .collect.base import Sample
from .files import utf8_pieces
from .publish.exposition import family_lines
from .report import CollectorOutcome, RunReport

Row = Sample
LAST_SUCCESS = "nbu_push_last_success_timestamp_seconds"
Spec = tuple[str, str, Sequence[str], list[Row], bool]  # name, HELP, labels, rows, counter


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
        ("nbu_push_values_skipped",
         "Values the collector left out in the last run (negative, beyond int64 or not a"
         " number); their records still count.",
         lambda o: o.stats.values_skipped),
        ("nbu_push_page_cap_hits",
         "Page loops of the collector stopped by NBU_MAX_PAGES in the last run.",
         lambda o: o.stats.page_cap_hits),
    ]
    for name, documentation, value in per_collector:
        yield (name, documentation, ("collector",),
               [((o.name,), value(o)) for o in outcomes])


def _capped(rows: list[Row], cap: int) -> tuple[list[Row], int]:
    """At most `cap` series, the largest values first; how many were dropped."""
    if len(rows) <= cap:
        return rows, 0
    kept = sorted(rows, key=lambda row: row[1], reverse=True)[:cap]
    return sorted(kept, key=lambda row: tuple(row[0])), len(rows) - cap


def family_specs(report: RunReport) -> Iterator[Spec]:
    """Every family of the run, in exposition order: the run's own status, then each
    successful collector's declared families, then the series dropped by the cap. One at a
    time: a family's rows are built when it is written, and dropped after."""
    for spec in _status_families(report):
        yield (*spec, False)
    dropped: list[Row] = []
    declared = collectors()
    for outcome in report.outcomes:
        if not outcome.success:
            continue
        for family in declared[outcome.name].families:  # an undeclared name fails loudly
            rows, lost = _capped(list(family.samples(outcome.data)), report.max_series)
            if family.dropped is not None:
                lost += family.dropped(outcome.data)
            dropped.append(((family.name,), lost))
            yield (family.name, family.documentation, family.label_names(outcome.data),
                   rows, family.counter)
    if dropped:
        yield ("nbu_push_series_dropped",
               "Series of the metric dropped by the cardinality cap (NBU_MAX_SERIES) in the"
               " last run.", ("metric",), dropped, False)


def exposition(report: RunReport) -> Iterator[bytes]:
    """The exposition in pieces of whole lines (about 64 KiB each), written as a sink takes
    them: beside a piece only one family's rows are held, never the whole text. The same
    report gives the same bytes each time (every sink, every retry)."""
    return utf8_pieces(
        line for name, documentation, labels, rows, counter in family_specs(report)
        for line in family_lines(name, documentation, ("site", *labels), rows, counter,
                                 prefix=(report.site,)))


def render(report: RunReport) -> bytes:
    """The whole exposition at once: what every sink writes (for the tests)."""
    return b"".join(exposition(report))
