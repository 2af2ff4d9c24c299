"""What a collector is: a name, what it reads, how it reads it, and the families it owns.

A collector module declares one `COLLECTOR = Collector(...)`. `collect(client, ctx)` returns
a plain summary (no metrics, no I/O besides the client); each `Family` turns that summary
into samples. A collector is checked when it is declared: a bad or duplicate family name,
a label that clashes with `site`, or no family at all raises at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..stats import CollectorStats

if TYPE_CHECKING:
    from ..netbackup.client import NetBackupClient

S = TypeVar("S")
Sample = tuple[Sequence[str], float]  # label values (in the family's label order), value

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_METRIC = re.compile(r"^nbu_[a-z0-9_]*[a-z0-9]$")
_LABEL = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_LABELS = frozenset({"site", "job", "instance", "collector", "le", "quantile"})


@dataclass
class CollectContext:
    """What every collector receives besides the client."""

    now: float  # Unix time the run started; the job window ends here
    job_window: float = 3600.0
    concurrency: int = 4
    max_pages: int = 10_000
    balance_slices: bool = True  # re-cut job slices by POST /admin/jobs-count-requests
    stats: CollectorStats = field(default_factory=CollectorStats)
    state: Any = None  # what this collector saved in the run state last time (JSON), if any
    settle: float = 0.0  # NBU_JOB_SETTLE: jobs ending this close to now are read next run
    backfill: float | None = None  # NBU_JOB_BACKFILL: a first run's reach (None: the window)
    windows: tuple[tuple[str, float], ...] = ()  # NBU_JOB_WINDOW as (label, seconds)
    inputs: dict[str, Any] = field(default_factory=dict)  # the outcomes (report.py) of the
    # collectors it `uses` that ran
    max_series: int = 5000  # NBU_MAX_SERIES, for collectors that choose which series to keep
    options: dict[str, Any] = field(default_factory=dict)  # collector-specific settings

    def __post_init__(self) -> None:
        if not self.windows:
            self.windows = ((f"{self.job_window:g}s", self.job_window),)


@dataclass(frozen=True)
class Family(Generic[S]):
    """One gauge family: its name, HELP text, labels and how a summary becomes samples."""

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
            if not _LABEL.match(label) or label in RESERVED_LABELS:
                raise ValueError(f"metric family {self.name!r}: label {label!r} is not allowed")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"metric family {self.name!r}: a label is repeated")


@dataclass(frozen=True)
class Collector(Generic[S]):
    """A collector: `collect` reads NetBackup into a summary of type S; `families` own it."""

    name: str  # the `collector` label value
    reads: str  # the endpoints, for docs and logs
    permission: str  # the NetBackup RBAC permission it needs
    collect: Callable[[NetBackupClient, CollectContext], S]
    families: tuple[Family[S], ...]
    state_of: Callable[[S], Any] | None = None  # what to keep in the run state (JSON)
    connections: int = 1  # requests it has in flight at once (sizes the connection pool)
    uses: tuple[str, ...] = ()  # collectors whose summary it needs: it runs after them
    probe: str | None = None  # a path `nbu-push check` GETs (page[limit]=1) for the permission

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"collector name {self.name!r} is not snake_case")
        if not self.families:
            raise ValueError(f"collector {self.name!r} declares no metric family")
        names = [family.name for family in self.families]
        if len(set(names)) != len(names):
            raise ValueError(f"collector {self.name!r} declares a family twice")
