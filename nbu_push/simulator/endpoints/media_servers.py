"""`GET /config/media-servers` (offset paging, page[limit] 1..500): media servers of every
status, one of them down."""

from __future__ import annotations

import json
import random

from ..pages import offset_page
from . import Endpoint, Request, Response, Route

SERVERS = (("media01.example.com", "ACTIVE_FOR_TAPE_AND_DISK", True),
           ("media02.example.com", "ACTIVE_FOR_TAPE", True),
           ("media03.example.com", "ACTIVE_FOR_DISK", True),
           ("media04.example.com", "OFFLINE", False),
           ("media05.example.com", "DEACTIVATED", True))


def generate(rng: random.Random, anchor_ms: int) -> list[bytes]:
    return [json.dumps({"type": "mediaServer", "id": f"ms-{n}", "attributes": {
        "hostName": name, "nbuVersion": rng.choice(["10.5.0.1", "11.0", "11.0.0.1"]),
        "osType": "Linux", "osVersion": "RHEL 9", "osReleaseVersion": "9.4", "dteMode": "OFF",
        "isMachineUp": up, "status": {"name": status, "resourceBundleKey": status.lower()}}},
        separators=(",", ":")).encode() for n, (name, status, up) in enumerate(SERVERS)]


def media_servers(request: Request) -> Response:
    return offset_page(request, request.sim.records["media_servers"],
                       meta=("prev", "next", "first", "last", "count", "offset", "limit"))


ENDPOINT = Endpoint(routes=(Route("GET", "/config/media-servers", media_servers),),
                    generate=generate)
