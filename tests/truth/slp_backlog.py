"""The slp_backlog collector: images waiting in each backlog state, by SLP."""

from __future__ import annotations

from nbu_push.simulator import Simulator
from nbu_push.simulator.data import SlpImage

from . import Reading, Series

BACKLOG = ("NOT_STARTED", "IN_PROCESS", "NOT_STARTED|INACTIVE", "IN_PROCESS|INACTIVE")


def backlog(images: list[SlpImage], read_limit: int | None = None) -> Series:
    """The backlog; `read_limit` images per state at most, as a bounded reader sees it."""
    count: dict[tuple, float] = {}
    oldest: dict[tuple, float] = {}
    complete: dict[tuple, float] = {}
    for state in BACKLOG:
        in_state = [image for image in images if image.state == state]
        seen = in_state if read_limit is None else in_state[:read_limit]
        complete[(("state", state),)] = float(len(seen) == len(in_state))
        for image in seen:
            key = (("slp", image.slp), ("state", state))
            count[key] = count.get(key, 0) + 1
            oldest[key] = min(image.backup_ms / 1000, oldest.get(key, float("inf")))
    return {"nbu_slp_backlog_images": count,
            "nbu_slp_backlog_oldest_backup_timestamp_seconds": oldest,
            "nbu_slp_backlog_complete": complete}


def expected(sim: Simulator, reading: Reading) -> Series:
    return backlog(sim.dataset.slp_images)
