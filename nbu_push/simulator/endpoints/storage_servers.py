"""`GET /storage/storage-servers` (offset paging, page[limit] 1..100): MSDP servers with and
without a deduplication ratio, one of them down, and disk and cloud servers without MSDP."""

from __future__ import annotations

import json
import random

from ..pages import offset_page
from . import Endpoint, Request, Response, Route


def generate(rng: random.Random, anchor_ms: int) -> list[bytes]:
    servers = []
    for name, kind, category, state, msdp in (
            ("msdp01.example.com", "PureDisk", "MSDP", "UP", True),
            ("msdp02.example.com", "PureDisk", "MSDP", "DOWN", True),
            ("msdp03.example.com", "PureDisk", "MSDP", "UP", False),
            ("adv01.example.com", "AdvancedDisk", "ADVANCED_DISK", "UP", None),
            ("cloud01.example.com", "amazon_raw", "CLOUD", "UP", None)):
        attributes: dict[str, object] = {"name": name, "sType": kind, "storageCategory":
                                         category, "storageServerState": state,
                                         "nbuHostVersion": "11.0", "isWormSupported": False}
        if msdp is not None:  # msdp03 reports MSDP attributes without a ratio
            details: dict[str, object] = {"storagePath": "/msdp/data", "fipsEnabled": False}
            if msdp:
                details["deduplicationRatioPercentage"] = round(rng.uniform(150, 2500), 1)
            attributes["msdpAttributes"] = details
        servers.append(json.dumps({"type": "storageServer", "id": f"{kind}:{name}",
                                   "attributes": attributes}, separators=(",", ":")).encode())
    return servers


def storage_servers(request: Request) -> Response:
    return offset_page(request, request.sim.records["storage_servers"], max_limit=100)


ENDPOINT = Endpoint(routes=(Route("GET", "/storage/storage-servers", storage_servers),),
                    generate=generate)
