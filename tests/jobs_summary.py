"""A jobs collector summary made from records, for tests of rendering (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterable

from nbu_push.collect._jobs.cells import floor_minute
from nbu_push.collect._jobs.ledger import JobLedger
from nbu_push.collect._jobs.tally import JobTally
from nbu_push.collect.jobs import JobsSummary
from nbu_push.netbackup.jobs import JobRecord

END_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def summary_of(records: Iterable[JobRecord], window: float = 3600.0) -> JobsSummary:
    """Records read in one run that ended at END_MS; jobs without endTime fall in its last
    minute, inside the window. The counters have not begun (a first run)."""
    tally = JobTally()
    tally.add_records(records)
    ledger = JobLedger(END_MS - int(window * 1000), END_MS)
    ledger.add(tally.take_buckets(floor_minute(END_MS - 1)), END_MS - int(window * 1000), END_MS)
    return JobsSummary(ledger, ((f"{window:g}s", window),), END_MS)
