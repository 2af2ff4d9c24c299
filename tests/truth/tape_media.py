"""The tape_media collector, from the simulator's media and pool records."""

from __future__ import annotations

import json

from nbu_push.simulator import Simulator

from . import Reading, Series
from .tape_drives import robot


def condition(media_status: str) -> str:
    words = media_status.split()
    for name in ("FROZEN", "SUSPENDED", "FULL"):
        if name in words:
            return name.lower()
    return "usable"


def expected(sim: Simulator, reading: Reading) -> Series:
    records = sim.records["tape_media"]
    pool_types = {attributes["volumePoolName"]: attributes["poolType"] for attributes in
                  (json.loads(record)["attributes"] for _, record in records["pools"])}
    media: dict[tuple, float] = {}
    cleanings: dict[tuple, float] = {}
    for _, record in records["media"]:
        attributes = json.loads(record)["attributes"]
        where = robot(attributes.get("robot", {}))
        if attributes["mediaType"].endswith("_CLN"):
            key = (("robot", where),)
            cleanings[key] = cleanings.get(key, 0.0) + attributes["cleaningsRemaining"]
            continue
        pool = attributes["volumePool"]
        key = (("condition", condition(attributes["mediaStatus"])), ("pool_type",
               pool_types.get(pool, "unknown")), ("robot", where), ("volume_pool", pool))
        media[key] = media.get(key, 0.0) + 1
    return {"nbu_tape_media": media, "nbu_tape_cleanings_remaining": cleanings,
            # when nbu-push read them: the run's own clock, which tests check for themselves
            "nbu_tape_media_read_timestamp_seconds": {} if reading.tape_media_read_at is None
            else {(): reading.tape_media_read_at}}
