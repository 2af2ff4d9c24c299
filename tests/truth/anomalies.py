"""The anomalies collector: open (NOT_REVIEWED) anomalies per severity, 0 included."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    open_ones = [r["attributes"]["anomalySeverity"] for r in sim.records["anomalies"]
                 if r["attributes"]["anomalyStatus"] == "NOT_REVIEWED"]
    return {"nbu_anomalies_open": {(("severity", severity),): float(open_ones.count(severity))
                                   for severity in ("HIGH", "MEDIUM", "LOW")}}
