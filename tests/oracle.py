"""prometheus_client as the oracle of the text exposition nbu-push writes itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


def prometheus_client_text(families: Iterable[tuple[str, str, Sequence[str], list, bool]]
                           ) -> bytes:
    """(name, HELP, label names, [(label values, value)], counter) as prometheus_client's
    own family objects, written by its generate_latest."""
    built = []
    for name, documentation, labels, rows, counter in families:
        family = (CounterMetricFamily if counter else GaugeMetricFamily)(
            name, documentation, labels=list(labels))
        for values, value in rows:
            family.add_metric(list(values), value)
        built.append(family)

    class Families:
        def collect(self):
            return built

    registry = CollectorRegistry()
    registry.register(Families())
    return generate_latest(registry)
