"""The metric contract: a RunReport becomes one text exposition (format 0.0.4).

Every series carries `site`, and data families exist only for collectors that succeeded, so
a failed collector never publishes zeros. docs/metrics.md documents each name; tests pin
them.

`seal` renders each successful collector's families to bytes inside that collector's own
guard: a family that raises fails its collector (`nbu_push_collector_success 0`, the partial
exit code) and nothing else, and the run's own families, written around them, reflect it.
The text is written by metrics/text.py, byte for byte what prometheus_client's
`generate_latest` writes for the same families, at a quarter of the cost (see there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from ..collect import collectors
from ..collect.base import Collector
from ..report import CollectorOutcome, RunReport
from ..runtime.files import utf8_pieces
from .family import Family, Sample
from .run_families import BEFORE_COLLECTORS, LAST_SUCCESS, SERIES_DROPPED
from .text import family_lines

Row = Sample
log = logging.getLogger("nbu_push")


def _capped(rows: list[Row], cap: int) -> tuple[list[Row], int]:
    """At most `cap` series, the largest values first; how many were dropped."""
    if len(rows) <= cap:
        return rows, 0
    kept = sorted(rows, key=lambda row: row[1], reverse=True)[:cap]
    return sorted(kept, key=lambda row: tuple(row[0])), len(rows) - cap


Spec = tuple[str, str, tuple[str, ...], list[Row], bool]  # name, HELP, labels, rows, counter


def _collector_specs(collector: Collector[Any], outcome: CollectorOutcome, report: RunReport,
                     dropped: list[Row]) -> Iterator[Spec]:
    """A collector's families, capped, one at a time; what each dropped goes to `dropped`."""
    for family in collector.families:
        rows, lost = _capped(list(family.samples(outcome.data)), report.max_series)
        if family.dropped is not None:
            lost += family.dropped(outcome.data)
        dropped.append(((family.name,), lost))
        yield family.name, family.documentation, family.label_names(outcome.data), rows, \
            family.counter


def _run_specs(families: Sequence[Family[RunReport]], report: RunReport) -> Iterator[Spec]:
    for family in families:
        rows = list(family.samples(report))
        if rows:  # a run family with nothing to say this run is left out
            yield family.name, family.documentation, family.labels, rows, family.counter


def _lines(specs: Iterator[Spec], site: str) -> Iterator[str]:
    for name, documentation, labels, rows, counter in specs:
        yield from family_lines(name, documentation, ("site", *labels), rows, counter,
                                prefix=(site,))


def _collector_pieces(collector: Collector[Any], outcome: CollectorOutcome,
                      report: RunReport) -> tuple[list[bytes], list[Row]]:
    """A collector's families as exposition pieces, and each family's dropped series."""
    dropped: list[Row] = []
    specs = _collector_specs(collector, outcome, report, dropped)
    return list(utf8_pieces(_lines(specs, report.site))), dropped


def seal(report: RunReport) -> None:
    """Render every successful collector's families, each inside its collector's guard.
    Idempotent; an outcome of an undeclared collector fails loudly (KeyError)."""
    declared = collectors()
    for outcome in report.outcomes:
        if not outcome.success or outcome.rendered is not None:
            continue
        collector = declared[outcome.name]
        try:
            outcome.rendered, outcome.dropped = _collector_pieces(collector, outcome, report)
        except Exception as exc:  # one collector's family never stops the others
            log.error("collector %s: internal error %s while writing its metrics: %s",
                      outcome.name, type(exc).__name__, exc)
            outcome.success, outcome.error, outcome.data = False, exc, None


def family_specs(report: RunReport) -> Iterator[Spec]:
    """Every family of the run in exposition order, as data: for a reader other than the
    text writer (the tests hold the bytes to prometheus_client's writing of these)."""
    seal(report)
    yield from _run_specs(BEFORE_COLLECTORS, report)
    declared = collectors()
    for outcome in report.outcomes:
        if outcome.success:
            yield from _collector_specs(declared[outcome.name], outcome, report, [])
    yield from _run_specs((SERIES_DROPPED,), report)


def exposition(report: RunReport) -> Iterator[bytes]:
    """The exposition in pieces of whole lines (about 64 KiB each): the run's status, each
    successful collector's families, the series dropped by the cap. The same report gives
    the same bytes each time (every sink, every retry)."""
    seal(report)
    yield from utf8_pieces(_lines(_run_specs(BEFORE_COLLECTORS, report), report.site))
    for outcome in report.outcomes:
        if outcome.success:
            yield from outcome.rendered or ()
    yield from utf8_pieces(_lines(_run_specs((SERIES_DROPPED,), report), report.site))


def render(report: RunReport) -> bytes:
    """The whole exposition at once: what every sink writes (for the tests)."""
    return b"".join(exposition(report))


def kept_from_before(report: RunReport) -> frozenset[str]:
    """The metrics whose last published series a run leaves as they were, not replaced or
    removed: those of its failed collectors and, after a run that did not fully succeed, the
    last-success timestamp (outputs that replace by series, such as remote write, ask)."""
    names = {family.name for outcome in report.outcomes if not outcome.success
             for family in collectors()[outcome.name].families}
    if not report.success:
        names.add(LAST_SUCCESS)
    return frozenset(names)
