"""The alerts collector: the alerts added after the simulator made its history, by severity
and category, for runs that read each of them and ran once more (a label set's first alerts
are added one run after they are read)."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    records = sim.records["alerts"]
    counts: dict[tuple, float] = {}
    for record in records["alerts"][records["generated"]:]:
        key = (("category", record["attributes"]["category"]),
               ("severity", record["attributes"]["severity"]))
        counts[key] = counts.get(key, 0.0) + 1
    return {"nbu_alerts_total": counts}
