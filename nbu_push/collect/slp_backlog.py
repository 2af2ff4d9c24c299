"""The duplication (SLP) backlog: images waiting for their storage lifecycle, and the oldest.

`GET /catalog/slp-images?filter=slpImageState eq '<STATE>'` for each backlog state
(NOT_STARTED, IN_PROCESS and their `|INACTIVE` variants), in parallel, 1000 images per page,
following cursors. The API has no count and returns images oldest first, so the first image
of each SLP that a read meets is that SLP's oldest: ages are exact from the first page on.
Counting needs every page, so each state is read for at most MAX_PAGES_PER_STATE pages
(10,000 images, 10 requests); beyond that `nbu_slp_backlog_complete{state}` is 0 and the
counts of that state are lower bounds (docs/metrics.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label, timestamp
from ..netbackup.paging import cursor_pages
from ..netbackup.query import odata_string
from .base import CollectContext, Collector

PATH = "/catalog/slp-images"
BACKLOG_STATES = ("NOT_STARTED", "IN_PROCESS", "NOT_STARTED|INACTIVE", "IN_PROCESS|INACTIVE")
PAGE_LIMIT = 1000  # the endpoint's maximum
MAX_PAGES_PER_STATE = 10


class SlpImageAttributes(msgspec.Struct):
    slpName: Any = None
    slpImageState: Any = None
    backupTime: Any = None


class SlpImageRecord(msgspec.Struct):
    attributes: SlpImageAttributes | None = None


decode_slp_page = page_decoder(SlpImageRecord)


@dataclass
class SlpBacklog:
    images: dict[tuple[str, str], int] = field(default_factory=dict)  # (slp, state) -> n
    oldest: dict[tuple[str, str], float] = field(default_factory=dict)  # -> backup time
    complete: dict[str, bool] = field(default_factory=dict)  # queried state -> read fully

    def add(self, slp: str, state: str, backup_time: float | None) -> None:
        key = (slp, state)
        self.images[key] = self.images.get(key, 0) + 1
        if backup_time is not None and backup_time < self.oldest.get(key, float("inf")):
            self.oldest[key] = backup_time

    def merge(self, other: SlpBacklog) -> None:
        for key, count in other.images.items():
            self.images[key] = self.images.get(key, 0) + count
        for key, when in other.oldest.items():
            self.oldest[key] = min(when, self.oldest.get(key, when))
        self.complete.update(other.complete)


def _read_state(client: NetBackupClient, ctx: CollectContext, state: str) -> SlpBacklog:
    backlog = SlpBacklog()
    params = {"filter": f"slpImageState eq {odata_string(state)}", "page[limit]": PAGE_LIMIT}
    complete = True
    pages = cursor_pages(client, PATH, params, decode_slp_page, ctx.stats, ctx.max_pages)
    for number, page in enumerate(pages, start=1):
        nameless = 0
        for record in page.records:
            attrs = record.attributes
            slp = label(attrs.slpName, "") if attrs is not None else ""
            if attrs is None or not slp:
                nameless += 1
                continue
            backlog.add(slp, label(attrs.slpImageState, state), timestamp(attrs.backupTime))
        ctx.stats.add(skipped=nameless)
        if number == MAX_PAGES_PER_STATE and page.next_cursor is not None and page.records:
            complete = False
            break
    backlog.complete[state] = complete
    return backlog


def collect_slp_backlog(client: NetBackupClient, ctx: CollectContext) -> SlpBacklog:
    total = SlpBacklog()
    with ThreadPoolExecutor(len(BACKLOG_STATES), thread_name_prefix="slp") as pool:
        read = ctx.stats.on_cpu(lambda state: _read_state(client, ctx, state))
        for backlog in pool.map(read, BACKLOG_STATES):
            total.merge(backlog)
    return total


COLLECTOR: Collector[SlpBacklog] = Collector(
    name="slp_backlog",
    probe="/catalog/slp-images",
    reads=f"GET {PATH} (cursor paging, one chain per backlog state)",
    permission="|MANAGE|STORAGE-LIFECYCLE-IMAGES| view",
    collect=collect_slp_backlog,
    connections=len(BACKLOG_STATES),
    families=(
        Family("nbu_slp_backlog_images",
               "Images waiting for their storage lifecycle policy, by SLP and slpImageState"
               " (GET /catalog/slp-images); a lower bound where nbu_slp_backlog_complete is 0.",
               ("slp", "state"),
               lambda s: [(key, n) for key, n in sorted(s.images.items())]),
        Family("nbu_slp_backlog_oldest_backup_timestamp_seconds",
               "Backup time of the oldest image waiting for its storage lifecycle policy"
               " (GET /catalog/slp-images, backupTime).",
               ("slp", "state"),
               lambda s: [(key, t) for key, t in sorted(s.oldest.items())]),
        Family("nbu_slp_backlog_complete",
               "1 if every image in the backlog state was read, 0 if the read stopped at"
               f" {MAX_PAGES_PER_STATE * PAGE_LIMIT} images (the counts are then lower bounds).",
               ("state",),
               lambda s: [((state,), int(done)) for state, done in sorted(s.complete.items())]),
    ),
)
