"""The truth tests compare a run's output against: what nbu-push must publish for the
simulator's records, computed from those records (never with nbu-push's code).

One module here per collector, named after it, with `expected(sim, reading) -> Series`:
found as the collectors and the simulator's endpoints are, so a new collector's truth is a
new module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.simulator import Simulator

Series = dict[str, dict[tuple[tuple[str, str], ...], float]]  # family -> labels -> value


@dataclass(frozen=True)
class Reading:
    """What the truth of a run depends on besides the records: the window and, from the run
    state, what the run read ([read_from, read_until)) and counted ([counted_since, …))."""

    window_seconds: float = 3600
    read_until_ms: int | None = None  # None: the window ends at the dataset's anchor
    counted_since_ms: int | None = None
    read_from_ms: int | None = None
    tape_media_read_at: float | None = None  # Unix seconds; the run's clock, not the data's


def truth_modules() -> dict[str, object]:
    """Every truth module by collector name (as many as there are modules here)."""
    return {info.name: importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


def expected_series(sim: Simulator, window_seconds: float = 3600,
                    read_until_ms: int | None = None, counted_since_ms: int | None = None,
                    read_from_ms: int | None = None, tape_media_read_at: float | None = None
                    ) -> dict[str, Series]:
    """By collector name: every family nbu-push must publish for the simulator's data.

    Without `read_until_ms` (the watermark nbu-push reports) the window ends at the
    dataset's anchor; with it, the window starts at the minute edge at or before
    `read_until_ms - window` (docs/state.md). Counters cover [counted_since, read_until).
    """
    reading = Reading(window_seconds, read_until_ms, counted_since_ms, read_from_ms,
                      tape_media_read_at)
    return {name: module.expected(sim, reading)  # type: ignore[attr-defined]
            for name, module in truth_modules().items()}


def labelled(values: Mapping[tuple[str, ...], float], names: tuple[str, ...]
             ) -> dict[tuple[tuple[str, str], ...], float]:
    """{(value, …): n} as {sorted ((name, value), …): float(n)}."""
    return {tuple(sorted(zip(names, key, strict=True))): float(v) for key, v in values.items()}

BACKFILL_MS = 24 * 3600_000  # NBU_JOB_BACKFILL's default: where a first run starts reading


def published_ms(values: dict, family: str) -> int | None:
    """A timestamp family (seconds) from parsed series, as whole milliseconds."""
    series = values.get(family)
    if not series:
        return None
    return round(next(iter(series.values())) * 1000)


def expected(sim: Simulator, published: dict[str, dict], window: float = 3600) -> dict:
    """By collector: the families the simulator says the run should have published.

    `published` maps family names to {labels: value}; the jobs watermark and counting start
    are read from it (the simulator cannot know the primary's clock at the very moment of a
    request), and so is when the tape media were read; everything else comes from the
    simulator's own records.
    """
    counted_since = published_ms(published, "nbu_jobs_counted_since_timestamp_seconds")
    tape_read = published.get("nbu_tape_media_read_timestamp_seconds", {}).get(())
    return expected_series(
        sim, window, published_ms(published, "nbu_jobs_read_until_timestamp_seconds"),
        counted_since, None if counted_since is None else counted_since - BACKFILL_MS,
        tape_read)


def series(text: str) -> dict[str, dict[tuple, float]]:
    """An exposition as {sample name: {sorted labels but `site`: value}}."""
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "site"))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found
