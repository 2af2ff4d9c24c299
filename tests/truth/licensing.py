"""The licensing collector: consumption per primary and each entitlement (no series when the
release has no licensing endpoints)."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    data = sim.dataset
    consumption = data.consumption_mb if sim.licensing else {}
    series: Series = {
        "nbu_license_used_capacity_bytes": {
            (("primary_server", name),): float(int(mb * 2**20))
            for name, mb in consumption.items()},
        "nbu_license_entitled_capacity_bytes": {}, "nbu_license_expiry_timestamp_seconds": {},
        "nbu_license_service_end_timestamp_seconds": {}, "nbu_license_active": {}}
    for item in data.entitlements if sim.licensing else []:
        labels = (("entitlement", item.entitlement_id), ("license_type", item.license_type),
                  ("meter", item.meter))
        if item.meter == "FETB":
            series["nbu_license_entitled_capacity_bytes"][labels] = float(
                int(item.license_count * item.count_multiplier * 2**40))
        series["nbu_license_expiry_timestamp_seconds"][labels] = item.end_ms / 1000
        series["nbu_license_service_end_timestamp_seconds"][labels] = item.service_end_ms / 1000
        series["nbu_license_active"][labels] = float(item.status == "ACTIVE")
    return series
