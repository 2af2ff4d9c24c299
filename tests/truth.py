"""The simulator's truth for what one run published, at the watermark that run reports."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.simulator import Simulator

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
    request), everything else comes from the simulator's own records.
    """
    counted_since = published_ms(published, "nbu_jobs_counted_since_timestamp_seconds")
    return sim.expected_series(
        window, published_ms(published, "nbu_jobs_read_until_timestamp_seconds"),
        counted_since, None if counted_since is None else counted_since - BACKFILL_MS)


def series(text: str) -> dict[str, dict[tuple, float]]:
    """An exposition as {sample name: {sorted labels but `site`: value}}."""
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "site"))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found
