"""Disk pools and their capacity, from `GET /storage/disk-pools` (offset paging).

The pool is the unit of disk capacity: several storage units can share one pool and report
its capacity each, so "how full is my storage" is asked of pools, not units. Sizes the pool
does not report (cloud pools) are absent, never zero; water marks (percent) become ratios.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family, Sample
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import named, page_decoder
from ..netbackup.fields import capacity, label, number
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector

PATH = "/storage/disk-pools"


class PoolAttributes(msgspec.Struct):
    name: Any = None
    sType: Any = None
    diskPoolState: Any = None
    rawSizeBytes: Any = None
    usableSizeBytes: Any = None
    availableSpaceBytes: Any = None
    usedCapacityBytes: Any = None
    highWaterMark: Any = None
    lowWaterMark: Any = None


class PoolRecord(msgspec.Struct):
    id: Any = None
    attributes: PoolAttributes | None = None


decode_pools_page = page_decoder(PoolRecord)


def percent_ratio(value: object) -> float | None:
    """A percentage 0..100 as a ratio 0..1; anything else is absent."""
    parsed = number(value)
    return None if parsed is None or not 0 <= parsed <= 100 else parsed / 100


@dataclass(frozen=True)
class DiskPool:
    name: str
    server_type: str  # sType, the storage server type (PureDisk, AdvancedDisk, ...)
    state: str | None  # diskPoolState: UP, DOWN, TRANSIENT
    raw_bytes: int | None
    usable_bytes: int | None
    available_bytes: int | None
    used_bytes: int | None
    high_watermark: float | None  # ratio
    low_watermark: float | None


@dataclass
class DiskPools:
    pools: dict[str, DiskPool] = field(default_factory=dict)  # by name: no duplicate series

    def add_records(self, records: Sequence[PoolRecord]) -> int:
        """Fold records in; returns how many were skipped (no attributes, no name)."""
        found, skipped = named(records)
        for name, attrs in found:
            state = label(attrs.diskPoolState, "")
            self.pools[name] = DiskPool(
                name=name, server_type=label(attrs.sType), state=state.upper() or None,
                raw_bytes=capacity(attrs.rawSizeBytes),
                usable_bytes=capacity(attrs.usableSizeBytes),
                available_bytes=capacity(attrs.availableSpaceBytes),
                used_bytes=capacity(attrs.usedCapacityBytes),
                high_watermark=percent_ratio(attrs.highWaterMark),
                low_watermark=percent_ratio(attrs.lowWaterMark))
        return skipped


def collect_disk_pools(client: NetBackupClient, ctx: CollectContext) -> DiskPools:
    summary = DiskPools()
    for page in offset_pages(client, PATH, {}, decode_pools_page, ctx.stats, ctx.max_pages):
        ctx.stats.add(skipped=summary.add_records(page.records))
    return summary


POOL_LABELS = ("disk_pool", "storage_server_type")


def _per_pool(name: str, documentation: str,
              value: Callable[[DiskPool], float | None]) -> Family[DiskPools]:
    def samples(summary: DiskPools) -> Iterator[Sample]:
        for pool in sorted(summary.pools.values(), key=lambda pool: pool.name):
            amount = value(pool)
            if amount is not None:
                yield (pool.name, pool.server_type), amount

    return Family(name, documentation, POOL_LABELS, samples)


def _is_up(pool: DiskPool) -> float | None:
    return None if pool.state is None else float(pool.state == "UP")


COLLECTOR: Collector[DiskPools] = Collector(
    name="disk_pools",
    probe="/storage/disk-pools",
    reads=f"GET {PATH} (offset paging)",
    permission="|STORAGE|DISK-POOLS| view",
    collect=collect_disk_pools,
    families=(
        _per_pool("nbu_disk_pool_usable_bytes",
                  "Usable size of the disk pool (GET /storage/disk-pools, usableSizeBytes).",
                  lambda pool: pool.usable_bytes),
        _per_pool("nbu_disk_pool_available_bytes",
                  "Available space in the disk pool (GET /storage/disk-pools,"
                  " availableSpaceBytes).", lambda pool: pool.available_bytes),
        _per_pool("nbu_disk_pool_raw_bytes",
                  "Raw size of the disk pool (GET /storage/disk-pools, rawSizeBytes).",
                  lambda pool: pool.raw_bytes),
        _per_pool("nbu_disk_pool_used_bytes",
                  "Used capacity of the disk pool (GET /storage/disk-pools,"
                  " usedCapacityBytes).", lambda pool: pool.used_bytes),
        _per_pool("nbu_disk_pool_up",
                  "1 if the disk pool is UP, 0 if DOWN or TRANSIENT (diskPoolState).", _is_up),
        _per_pool("nbu_disk_pool_high_watermark_ratio",
                  "High water mark of the disk pool as a ratio (highWaterMark / 100).",
                  lambda pool: pool.high_watermark),
        _per_pool("nbu_disk_pool_low_watermark_ratio",
                  "Low water mark of the disk pool as a ratio (lowWaterMark / 100).",
                  lambda pool: pool.low_watermark),
    ),
)
