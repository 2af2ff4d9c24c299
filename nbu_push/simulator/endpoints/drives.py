"""`GET /storage/drives` (offset paging, page[limit] 0..100): a site with two libraries,
TLD(0) and ACS(1), and standalone drives; drives up, down, mixed and disabled, paths down,
drives that need cleaning by comment or by tape alert, one drive without device paths."""

from __future__ import annotations

import json
import random

from ..pages import offset_page
from . import Endpoint, Request, Response, Route

PATH_STATES = ("PATH_STATUS_UP", "PATH_STATUS_UP", "PATH_STATUS_DOWN", "PATH_STATUS_DISABLED")
DRIVE_STATES = ("DRIVE_STATUS_UP",) * 5 + ("DRIVE_STATUS_DOWN", "DRIVE_STATUS_MIXED",
                                           "DRIVE_STATUS_DISABLED")
LIBRARIES = (("TLD", 0, 8), ("ACS", 1, 5), ("NOT_ROBOTIC", None, 2), ("NA", None, 1))


def generate(rng: random.Random, anchor_ms: int) -> list[bytes]:
    drives = []
    for robot_type, robot_number, count in LIBRARIES:
        for index in range(count):
            name = (f"{robot_type.lower()}{robot_number}-drive{index:02d}"
                    if robot_number is not None else f"standalone-{robot_type.lower()}{index}")
            attributes: dict[str, object] = {
                "driveType": rng.choice(["DT_HCART2", "DT_HCART3"]), "robotType": robot_type,
                "driveStatus": rng.choice(DRIVE_STATES), "enabled": True,
                "tapeAlertEnabled": True, "serialNumber": f"SN{rng.randint(10**6, 10**7)}"}
            if robot_number is not None:
                attributes.update(robotNumber=robot_number, robotDriveNumber=index + 1)
            roll = rng.random()
            if roll < 0.15:
                attributes["cleaningComment"] = "NEEDS CLEANING"
            elif roll < 0.3:
                attributes["tapeAlert1"] = rng.choice(["CLEAN_NOW,", "CLEAN_PERIODIC,"])
            elif roll < 0.4:
                attributes["tapeAlert2"] = "READ_WARNING,"
            if robot_type != "NA":  # a drive the primary reports without paths
                attributes["devicePaths"] = [
                    {"pathIndex": n, "deviceHost": f"media{n + 1:02d}.example.com",
                     "devicePath": f"/dev/nst{index}", "pathStatus": rng.choice(PATH_STATES),
                     "isEnabled": True} for n in range(rng.randint(1, 3))]
            drives.append(json.dumps({"type": "drive", "id": name, "attributes": attributes},
                                     separators=(",", ":")).encode())
    return drives


def drives(request: Request) -> Response:
    return offset_page(request, request.sim.records["drives"], max_limit=100, min_limit=0,
                       meta=("prev", "next", "first", "last", "count", "offset", "limit"))


ENDPOINT = Endpoint(routes=(Route("GET", "/storage/drives", drives),), generate=generate)
