"""Storage units and their capacity, from `GET /storage/storage-units` (offset paging).

Units without capacity fields (cloud units, per the spec) get no capacity series: absent,
never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..netbackup.client import NetBackupClient
from ..netbackup.paging import offset_pages
from .base import CollectContext
from .fields import attributes, capacity, label

PATH = "/storage/storage-units"


@dataclass(frozen=True)
class StorageUnit:
    name: str
    category: str  # storageCategory: classify by this, not storageType
    storage_type: str
    free_bytes: int | None
    used_bytes: int | None
    capacity_bytes: int | None


@dataclass
class StorageSummary:
    units: dict[str, StorageUnit] = field(default_factory=dict)  # by name: no duplicate series
    skipped: int = 0

    def add(self, record: object) -> None:
        attrs = attributes(record)
        name = label(attrs.get("name") or record.get("id"), "") if attrs is not None else ""
        if not name:  # malformed, or a unit nobody could name in a label
            self.skipped += 1
            return
        assert attrs is not None
        self.units[name] = StorageUnit(
            name=name,
            category=label(attrs.get("storageCategory")),
            storage_type=label(attrs.get("storageType")),
            free_bytes=capacity(attrs.get("freeCapacityBytes")),
            used_bytes=capacity(attrs.get("usedCapacityBytes")),
            capacity_bytes=capacity(attrs.get("totalCapacityBytes")),
        )


def collect_storage(client: NetBackupClient, ctx: CollectContext) -> StorageSummary:
    summary = StorageSummary()
    for page in offset_pages(client, PATH, {}, ctx.stats, ctx.max_pages):
        for record in page:
            summary.add(record)
        ctx.stats.add(records=len(page))
    ctx.stats.add(skipped=summary.skipped)
    return summary
