"""The storage collector: units without capacity have no series."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    series: Series = {"nbu_storage_unit_free_bytes": {}, "nbu_storage_unit_used_bytes": {},
                      "nbu_storage_unit_capacity_bytes": {}}
    for unit in sim.dataset.units:
        labels = (("storage_category", unit.category), ("storage_type", unit.storage_type),
                  ("storage_unit", unit.name))
        for family, amount in (("nbu_storage_unit_free_bytes", unit.free),
                               ("nbu_storage_unit_used_bytes", unit.used),
                               ("nbu_storage_unit_capacity_bytes", unit.total)):
            if amount is not None:
                series[family][labels] = float(amount)
    return series
