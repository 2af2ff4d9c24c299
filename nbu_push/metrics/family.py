"""A metric family: its name, HELP text, labels and how a summary becomes samples.

Checked when declared: a name that is not `nbu_…` snake_case (or a counter not ending in
`_total`), no HELP text, a label that clashes with a label nbu-push or Prometheus sets, or a
label named twice raises at import time, never at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

S = TypeVar("S")
Sample = tuple[Sequence[str], float]  # label values (in the family's label order), value

RUN_PREFIX = "nbu_push_"  # the run's own families (metrics/run_families.py), no collector's
_METRIC = re.compile(r"^nbu_[a-z0-9_]*[a-z0-9]$")
_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_LABELS = frozenset({"site", "job", "instance", "collector", "le", "quantile"})


@dataclass(frozen=True)
class Family(Generic[S]):
    """One family over a summary of type S; gauges unless `counter`."""

    reserved_labels: ClassVar[frozenset[str]] = RESERVED_LABELS  # labels nbu-push sets itself
    name: str
    documentation: str
    labels: tuple[str, ...]
    samples: Callable[[S], Iterable[Sample]]  # capped at NBU_MAX_SERIES, largest kept
    dropped: Callable[[S], int] | None = None  # series the collector itself left out (cap)
    counter: bool = False  # a cumulative count (name ends in _total), else a gauge
    label_prefix: Callable[[S], tuple[str, ...]] | None = None  # labels that depend on the
    # summary (the jobs' `window` label, only with several windows), before `labels`

    def label_names(self, summary: S) -> tuple[str, ...]:
        return (*self.label_prefix(summary), *self.labels) if self.label_prefix else self.labels

    def __post_init__(self) -> None:
        if not _METRIC.match(self.name) or self.name.endswith(("_count", "_sum")) or (
                self.name.endswith("_total") != self.counter):
            kind = "counter" if self.counter else "gauge"
            raise ValueError(f"metric family {self.name!r}: not an nbu_ {kind} name")
        if not self.documentation.strip():
            raise ValueError(f"metric family {self.name!r} has no HELP text")
        for label in self.labels:
            if not _LABEL.match(label) or label in self.reserved_labels:
                raise ValueError(f"metric family {self.name!r}: label {label!r} is not allowed")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"metric family {self.name!r}: a label is repeated")
