"""The plain result of one run: what metrics/ turns into the exposition."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .runtime.stats import CollectorStats


@dataclass
class CollectorOutcome:
    name: str
    success: bool
    duration_seconds: float
    stats: CollectorStats
    data: object = None  # the collector's summary when it succeeded
    error: BaseException | None = None
    # what the collector keeps in the run state (None: keep the old), built only when saved
    state: Callable[[], object] | None = None
    rendered: list[bytes] | None = None  # its families' exposition, once sealed (metrics/)
    dropped: list[tuple[Sequence[str], float]] = field(default_factory=list)  # by family: series
    # the cardinality cap left out


@dataclass
class RunReport:
    site: str
    started_at: float  # Unix time
    duration_seconds: float
    api_version: str | None
    outcomes: list[CollectorOutcome] = field(default_factory=list)
    max_series: int = 5000  # per data family; the rest is dropped and counted

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(outcome.success for outcome in self.outcomes)

    @property
    def partial(self) -> bool:
        return not self.success and any(outcome.success for outcome in self.outcomes)
