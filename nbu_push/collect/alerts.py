"""NetBackup alerts as a counter, from `GET /manage/alerts` (offset paging).

Alerts (job-failure e-mail alerts) have no open or acknowledged state, so what can be
published honestly is how many were created: `nbu_alerts_total{severity,category}`, the
alerts created after the run state began. A high-water mark on `alertId`, kept in the run
state, makes each alert read once: every run reads `filter=alertId gt <mark>&sort=alertId`
to the end. The first run only finds the newest alert (one request), so the past is never
counted. As with the jobs' counters, a label set seen for the first time is published at 0
and its alerts are added one run later, so that `increase()` sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label, number
from ..netbackup.paging import first_record, offset_pages
from ..runtime.errors import ApiError
from .base import CollectContext, Collector

PATH = "/manage/alerts"
PAGE_LIMIT = 100

Key = tuple[str, str]  # severity, category


class AlertAttributes(msgspec.Struct):
    severity: Any = None
    category: Any = None


class AlertRecord(msgspec.Struct):
    id: Any = None  # the alertId
    attributes: AlertAttributes | None = None


decode_alerts_page = page_decoder(AlertRecord)


def alert_id(record: AlertRecord) -> int | None:
    value = number(record.id)
    return int(value) if value is not None and value >= 0 and value == int(value) else None


@dataclass
class AlertLedger:
    mark: int | None = None  # the newest alertId read; None: not yet known
    counts: dict[Key, int] = field(default_factory=dict)  # published
    pending: dict[Key, int] = field(default_factory=dict)  # read, added next run

    def add(self, records: Iterable[AlertRecord]) -> int:
        """Count alerts newer than the mark; returns how many were skipped (no alertId)."""
        skipped = 0
        for record in records:
            identity = alert_id(record)
            if identity is None:
                skipped += 1
                continue
            if self.mark is not None and identity <= self.mark:
                continue  # read before (a page that shifted under the offset)
            attrs = record.attributes or AlertAttributes()
            key = (label(attrs.severity).upper(), label(attrs.category).upper())
            if key in self.counts:
                self.counts[key] += 1
            else:  # published at 0 now, added next run
                self.pending[key] = self.pending.get(key, 0) + 1
            self.mark = identity if self.mark is None else max(self.mark, identity)
        return skipped

    def settle(self) -> None:
        """At a run's start: what the previous run published at 0 is added now."""
        for key, n in self.pending.items():
            self.counts[key] = self.counts.get(key, 0) + n
        self.pending = {}

    def to_json(self) -> dict[str, Any]:
        return {"mark": self.mark, "counts": [[*key, n] for key, n in self.counts.items()],
                "pending": [[*key, n] for key, n in self.pending.items()]}

    @classmethod
    def from_json(cls, document: object) -> AlertLedger | None:
        """What a previous run kept; None when damaged (start afresh: count from now)."""
        try:
            assert isinstance(document, dict)
            mark = document["mark"]
            assert mark is None or (isinstance(mark, int) and mark >= 0)
            counts = {(str(s), str(c)): int(n) for s, c, n in document["counts"]}
            pending = {(str(s), str(c)): int(n) for s, c, n in document["pending"]}
            assert all(n >= 0 for n in [*counts.values(), *pending.values()])
        except (AssertionError, KeyError, TypeError, ValueError):
            return None
        return cls(mark, counts, pending)


def collect_alerts(client: NetBackupClient, ctx: CollectContext) -> AlertLedger:
    ledger = AlertLedger.from_json(ctx.state) if ctx.saved is not None else None
    if ledger is None or ledger.mark is None:  # the first run: where the counting starts
        newest = first_record(client, PATH, {"sort": "-alertId"}, decode_alerts_page,
                              ctx.stats)
        mark = alert_id(newest) if newest is not None else 0  # none yet: count from 0
        if mark is None:  # a mark of 0 would count the whole history next run
            raise ApiError(f"GET {PATH}: the newest alert has no usable alertId; counting"
                           " starts once it has one")
        return AlertLedger(mark, ledger.counts if ledger else {},
                           ledger.pending if ledger else {})
    ledger.settle()
    for page in offset_pages(client, PATH, {"filter": f"alertId gt {ledger.mark}",
                                            "sort": "alertId"},
                             decode_alerts_page, ctx.stats, ctx.max_pages, PAGE_LIMIT):
        ctx.stats.add(skipped=ledger.add(page.records))
    return ledger


def _samples(ledger: AlertLedger):
    for key in sorted({*ledger.counts, *ledger.pending}):
        yield key, float(ledger.counts.get(key, 0))


COLLECTOR: Collector[AlertLedger] = Collector(
    name="alerts",
    probe=PATH,
    reads=f"GET {PATH} (offset paging from the last alertId read; off on HTTP 404)",
    permission="|MANAGE|EMAIL-NOTIFICATIONS| view",
    collect=collect_alerts,
    absent=AlertLedger,
    state_of=lambda ledger: ledger.to_json() if ledger.mark is not None else None,
    families=(
        Family("nbu_alerts_total", "NetBackup alerts created since nbu-push's run state began"
               " (GET /manage/alerts), by severity and category.",
               ("severity", "category"), _samples, counter=True),
    ),
)
