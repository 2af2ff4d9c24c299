"""The tape_drives collector, from the simulator's drive records."""

from __future__ import annotations

import json

from nbu_push.simulator import Simulator

from . import Reading, Series


def robot(attributes: dict) -> str:
    kind = attributes.get("robotType")
    if kind in (None, "NA", "NOT_ROBOTIC"):
        return "standalone"
    return f"{kind}({attributes['robotNumber']})"


def expected(sim: Simulator, reading: Reading) -> Series:
    series: Series = {"nbu_tape_drive_up": {}, "nbu_tape_drive_needs_cleaning": {},
                      "nbu_tape_drive_paths_down": {}}
    for record in map(json.loads, sim.records["drives"]):
        attributes = record["attributes"]
        labels = (("drive", record["id"]), ("drive_type", attributes["driveType"]),
                  ("robot", robot(attributes)))
        series["nbu_tape_drive_up"][labels] = float(
            attributes["driveStatus"] == "DRIVE_STATUS_UP")
        alerts = {attributes.get(name, "").rstrip(",") for name in ("tapeAlert1", "tapeAlert2")}
        if "cleaningComment" in attributes or alerts - {""}:
            series["nbu_tape_drive_needs_cleaning"][labels] = float(
                attributes.get("cleaningComment") == "NEEDS CLEANING"
                or bool(alerts & {"CLEAN_NOW", "CLEAN_PERIODIC"}))
        if "devicePaths" in attributes:
            series["nbu_tape_drive_paths_down"][labels] = float(sum(
                path["pathStatus"] != "PATH_STATUS_UP" for path in attributes["devicePaths"]))
    return series
