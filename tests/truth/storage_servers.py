"""The storage_servers collector, from the simulator's storage server records."""

from __future__ import annotations

import json

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    up: dict[tuple, float] = {}
    ratio: dict[tuple, float] = {}
    for record in map(json.loads, sim.records["storage_servers"]):
        attributes = record["attributes"]
        labels = (("storage_server", attributes["name"]),
                  ("storage_server_type", attributes["sType"]))
        up[labels] = float(attributes["storageServerState"] == "UP")
        percent = attributes.get("msdpAttributes", {}).get("deduplicationRatioPercentage")
        if percent is not None:
            ratio[labels] = percent / 100
    return {"nbu_storage_server_up": up, "nbu_storage_server_deduplication_ratio": ratio}
