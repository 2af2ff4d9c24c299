"""The media_servers collector, from the simulator's media server records."""

from __future__ import annotations

import json

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    up: dict[tuple, float] = {}
    info: dict[tuple, float] = {}
    for record in map(json.loads, sim.records["media_servers"]):
        attributes = record["attributes"]
        name = attributes["hostName"]
        up[(("media_server", name),)] = float(attributes["isMachineUp"])
        info[(("media_server", name), ("status", attributes["status"]["name"]),
              ("version", attributes["nbuVersion"]))] = 1.0
    return {"nbu_media_server_up": up, "nbu_media_server_info": info}
