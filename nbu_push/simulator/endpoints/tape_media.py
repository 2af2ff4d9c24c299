"""`GET /storage/tape-media` and `GET /storage/tape-volume-pools` (both cursor paging,
page[limit] 0..100): a few hundred media in regular, scratch, catalog and offsite pools,
in both libraries and outside them, with every combination of the statuses that decide a
medium's condition, cleaning tapes with cleanings left, and a medium in a pool the pool list
does not name."""

from __future__ import annotations

import itertools
import json
import random

from ..pages import cursor_page
from . import Endpoint, Request, Response, Route

POOLS = (("NetBackup", "REGULAR_MEDIA_POOL"), ("DataStore", "REGULAR_MEDIA_POOL"),
         ("Scratch", "SCRATCH_MEDIA_POOL"), ("CatalogBackup", "CATALOG_MEDIA_POOL"),
         ("Offsite", "REGULAR_MEDIA_POOL"), ("None", "AVAILABLE_MEDIA_POOL"))
DECIDING = ("FROZEN", "SUSPENDED", "FULL")
OTHERS = ("ACTIVE", "IMPORTED", "MULTIPLEXED", "WORM")
STATUS_SETS = [" ".join(combination) for size in range(len(DECIDING) + 1)
               for combination in itertools.combinations(DECIDING, size)]
ROBOTS = ({"robotType": "TLD", "robotNumber": 0, "robotHost": "media01.example.com"},
          {"robotType": "ACS", "robotNumber": 1, "robotHost": "media02.example.com"})


def _render(kind: str, key: str, attributes: dict) -> tuple[str, bytes]:
    return key, json.dumps({"type": kind, "id": key, "attributes": attributes},
                           separators=(",", ":")).encode()


def generate(rng: random.Random, anchor_ms: int) -> dict[str, list[tuple[str, bytes]]]:
    pools = [_render("volumePool", name, {"volumePoolName": name, "poolType": kind,
                                           "description": name, "partiallyFullMedia": 0})
             for name, kind in POOLS]
    media = []
    for index in range(rng.randint(250, 350)):
        pool = rng.choice(POOLS)[0] if index else "NoSuchPool"
        statuses = rng.choice(STATUS_SETS).split() + rng.sample(OTHERS, rng.randint(0, 2))
        rng.shuffle(statuses)
        attributes: dict[str, object] = {
            "barcode": f"A{index:05d}L8", "mediaType": rng.choice(["HCART2", "HCART3"]),
            "volumePool": pool, "mediaStatus": " ".join(statuses),
            "mounts": rng.randint(0, 900), "maxMounts": 0}
        if pool != "Offsite":
            robot = rng.choice((*ROBOTS, {"robotType": "NOT_ROBOTIC"}))
            attributes["robot"] = dict(robot)
            if robot["robotType"] != "NOT_ROBOTIC":
                attributes["slot"] = index + 1
        media.append(_render("tapeMedia", f"A{index:05d}", attributes))
    for number, robot in enumerate(ROBOTS):
        for index in range(2):
            media.append(_render("tapeMedia", f"CLN{number}{index}", {
                "barcode": f"CLN{number}{index}L8", "mediaType": "HC2_CLN",
                "volumePool": "None", "mediaStatus": "", "robot": dict(robot),
                "cleaningsRemaining": rng.randint(0, 25)}))
    return {"pools": pools, "media": media}


def tape_media(request: Request) -> Response:
    return cursor_page(request, request.sim.records["tape_media"]["media"], 10, 100)


def volume_pools(request: Request) -> Response:
    return cursor_page(request, request.sim.records["tape_media"]["pools"], 10, 100)


ENDPOINT = Endpoint(routes=(Route("GET", "/storage/tape-media", tape_media),
                            Route("GET", "/storage/tape-volume-pools", volume_pools)),
                    generate=generate)
