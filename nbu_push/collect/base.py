"""What every collector receives. A collector is `collect(client, ctx) -> plain data`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..stats import CollectorStats


@dataclass
class CollectContext:
    now: float  # Unix time the run started; the job window ends here
    job_window: float = 3600.0
    concurrency: int = 4
    max_pages: int = 10_000
    balance_slices: bool = True  # re-cut job slices by POST /admin/jobs-count-requests
    stats: CollectorStats = field(default_factory=CollectorStats)
