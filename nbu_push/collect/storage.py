"""Storage units and their capacity, from `GET /storage/storage-units` (offset paging).

Units without capacity fields (cloud units, per the spec) get no capacity series: absent,
never zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import named, page_decoder
from ..netbackup.fields import capacity, label
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector

PATH = "/storage/storage-units"


class UnitAttributes(msgspec.Struct):
    name: Any = None
    storageCategory: Any = None
    storageType: Any = None
    freeCapacityBytes: Any = None
    usedCapacityBytes: Any = None
    totalCapacityBytes: Any = None


class UnitRecord(msgspec.Struct):
    id: Any = None
    attributes: UnitAttributes | None = None


decode_units_page = page_decoder(UnitRecord)


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

    def add_records(self, records: Sequence[UnitRecord]) -> int:
        """Fold records in; returns how many were skipped (no attributes, no name)."""
        found, skipped = named(records)
        for name, attrs in found:
            self.units[name] = StorageUnit(
                name=name,
                category=label(attrs.storageCategory),
                storage_type=label(attrs.storageType),
                free_bytes=capacity(attrs.freeCapacityBytes),
                used_bytes=capacity(attrs.usedCapacityBytes),
                capacity_bytes=capacity(attrs.totalCapacityBytes),
            )
        return skipped


def collect_storage(client: NetBackupClient, ctx: CollectContext) -> StorageSummary:
    summary = StorageSummary()
    for page in offset_pages(client, PATH, {}, decode_units_page, ctx.stats, ctx.max_pages):
        ctx.stats.add(skipped=summary.add_records(page.records))
    return summary


UNIT_LABELS = ("storage_unit", "storage_category", "storage_type")


def _capacity(name: str, attribute: str, documentation: str) -> Family[StorageSummary]:
    def samples(summary: StorageSummary):
        for unit in sorted(summary.units.values(), key=lambda unit: unit.name):
            amount = getattr(unit, attribute)
            if amount is not None:
                yield (unit.name, unit.category, unit.storage_type), amount

    return Family(name, documentation, UNIT_LABELS, samples)


COLLECTOR: Collector[StorageSummary] = Collector(
    name="storage",
    probe="/storage/storage-units",
    reads="GET /storage/storage-units (offset paging)",
    permission="|STORAGE|STORAGE-UNITS| view",
    collect=collect_storage,
    families=(
        _capacity("nbu_storage_unit_free_bytes", "free_bytes",
                  "Free capacity of the storage unit (GET /storage/storage-units,"
                  " freeCapacityBytes)."),
        _capacity("nbu_storage_unit_used_bytes", "used_bytes",
                  "Used capacity of the storage unit (GET /storage/storage-units,"
                  " usedCapacityBytes)."),
        _capacity("nbu_storage_unit_capacity_bytes", "capacity_bytes",
                  "Total capacity of the storage unit (GET /storage/storage-units,"
                  " totalCapacityBytes)."),
    ),
)
