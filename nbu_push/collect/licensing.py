"""Licence capacity and dates, from `GET /licensing/capacity` and `GET /licensing/entitlements`.

Both are offset-paged. A server that answers 404 (an older release without the licensing
API) simply has no licensing series: the collector succeeds with nothing to report, so a
missing API never fails a run on its own. Sizes are in MB in the API (MiB, x 2^20 here);
an FETB entitlement without `entitledCapacityInMB` counts `licenseCount x countMultiplier`
terabytes (TiB, x 2^40). Dates are exported as timestamps, not as "days left".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import INT64_MAX, capacity, label, number, timestamp
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector

CAPACITY_PATH = "/licensing/capacity"
ENTITLEMENTS_PATH = "/licensing/entitlements"
PAGE_LIMIT = 100  # /licensing/entitlements: page[limit] 1..100
MIB, TIB = 2**20, 2**40
CAPACITY_METERS = ("FETB", "FETB_PLUS")
log = logging.getLogger(__name__)


class CapacityAttributes(msgspec.Struct):
    masterConsumptionMB: Any = None


class CapacityRecord(msgspec.Struct):
    id: Any = None
    attributes: CapacityAttributes | None = None


class EntitlementAttributes(msgspec.Struct):
    entitlementId: Any = None
    licenseType: Any = None
    licenseMeter: Any = None
    status: Any = None
    endDate: Any = None
    serviceExpiration: Any = None
    licenseCount: Any = None
    countMultiplier: Any = None
    entitledCapacityInMB: Any = None


class EntitlementRecord(msgspec.Struct):
    id: Any = None
    attributes: EntitlementAttributes | None = None


decode_capacity_page = page_decoder(CapacityRecord)
decode_entitlements_page = page_decoder(EntitlementRecord)


@dataclass(frozen=True)
class Entitlement:
    labels: tuple[str, str, str]  # entitlement, license_type, meter
    active: bool | None
    expiry: float | None  # endDate
    service_end: float | None  # serviceExpiration
    entitled_bytes: int | None


def entitled_bytes(attrs: EntitlementAttributes) -> int | None:
    explicit = capacity(attrs.entitledCapacityInMB)
    if explicit is not None:
        return explicit * MIB
    if label(attrs.licenseMeter, "").upper() not in CAPACITY_METERS:
        return None
    count, multiplier = number(attrs.licenseCount), number(attrs.countMultiplier)
    if count is None or count < 0:
        return None
    total = count * (1 if multiplier is None or multiplier <= 0 else multiplier) * TIB
    return int(total) if total <= INT64_MAX else None


@dataclass
class Licensing:
    used_bytes: dict[str, int] = field(default_factory=dict)  # primary server -> bytes
    entitlements: dict[tuple[str, str, str], Entitlement] = field(default_factory=dict)

    def add_capacity(self, records: Iterable[CapacityRecord]) -> int:
        skipped = 0
        for record in records:
            attrs = record.attributes
            used_mb = number(attrs.masterConsumptionMB) if attrs is not None else None
            primary = label(record.id, "")
            if used_mb is None or not 0 <= used_mb <= INT64_MAX / MIB or not primary:
                skipped += 1
                continue
            self.used_bytes[primary] = int(used_mb * MIB)
        return skipped

    def add_entitlements(self, records: Iterable[EntitlementRecord]) -> int:
        skipped = 0
        for record in records:
            attrs = record.attributes
            name = label(attrs.entitlementId or record.id, "") if attrs is not None else ""
            if attrs is None or not name:
                skipped += 1
                continue
            status = label(attrs.status, "").upper()
            key = (name, label(attrs.licenseType), label(attrs.licenseMeter))
            self.entitlements[key] = Entitlement(
                key, None if not status else status == "ACTIVE", timestamp(attrs.endDate),
                timestamp(attrs.serviceExpiration), entitled_bytes(attrs))
        return skipped


def collect_licensing(client: NetBackupClient, ctx: CollectContext) -> Licensing:
    summary = Licensing()
    for page in offset_pages(client, CAPACITY_PATH, {}, decode_capacity_page, ctx.stats,
                             ctx.max_pages, PAGE_LIMIT):
        ctx.stats.add(skipped=summary.add_capacity(page.records))
    for entitlements in offset_pages(client, ENTITLEMENTS_PATH, {}, decode_entitlements_page,
                                     ctx.stats, ctx.max_pages, PAGE_LIMIT):
        ctx.stats.add(skipped=summary.add_entitlements(entitlements.records))
    return summary


def _per_entitlement(name: str, documentation: str, attribute: str) -> Family[Licensing]:
    def samples(summary: Licensing):
        for key, entitlement in sorted(summary.entitlements.items()):
            value = getattr(entitlement, attribute)
            if value is not None:
                yield key, float(value)

    return Family(name, documentation, ("entitlement", "license_type", "meter"), samples)


COLLECTOR: Collector[Licensing] = Collector(
    name="licensing",
    probe="/licensing/capacity",
    reads=f"GET {CAPACITY_PATH}, GET {ENTITLEMENTS_PATH} (offset paging; off on HTTP 404)",
    permission="|MANAGE|LICENSING|USAGE| view and |MANAGE|LICENSING| view",
    collect=collect_licensing,
    absent=Licensing,
    families=(
        Family("nbu_license_used_capacity_bytes",
               "Front-end data the primary server consumes for capacity licensing"
               " (GET /licensing/capacity, masterConsumptionMB x 2^20).",
               ("primary_server",),
               lambda s: [((primary,), used) for primary, used in sorted(s.used_bytes.items())]),
        _per_entitlement("nbu_license_entitled_capacity_bytes",
                         "Capacity the entitlement allows (GET /licensing/entitlements,"
                         " entitledCapacityInMB x 2^20, or for FETB meters licenseCount x"
                         " countMultiplier x 2^40).", "entitled_bytes"),
        _per_entitlement("nbu_license_expiry_timestamp_seconds",
                         "End date of the entitlement (GET /licensing/entitlements, endDate).",
                         "expiry"),
        _per_entitlement("nbu_license_service_end_timestamp_seconds",
                         "Service (support) expiration of the entitlement"
                         " (GET /licensing/entitlements, serviceExpiration).", "service_end"),
        _per_entitlement("nbu_license_active",
                         "1 if the entitlement's status is ACTIVE, 0 if EXPIRED"
                         " (GET /licensing/entitlements, status).", "active"),
    ),
)
