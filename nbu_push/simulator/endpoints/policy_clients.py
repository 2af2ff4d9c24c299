"""`GET /config/unique-policy-clients`: offset paging, page[limit] 1..5000 (500 served)."""

from __future__ import annotations

import json
from dataclasses import replace

from ..pages import offset_page
from . import Endpoint, Request, Response, Route, error


def policy_clients(request: Request) -> Response:
    try:
        limit = int(request.params.get("page[limit]", "10"))
    except ValueError:
        limit = -1
    if not 1 <= limit <= 5000:
        return error(400, "Bad request.", ["page[limit] 1..5000"])
    records = [json.dumps({"type": "uniquePolicyClient", "id": name, "attributes": {
        "policyTypes": ["STANDARD"], "policyNames": ["policy-1"], "OS": "Linux",
        "hardware": "x86_64"}}).encode() for name in request.sim.configured]
    return offset_page(replace(request, params={**request.params,
                                                "page[limit]": str(min(limit, 500))}), records)


ENDPOINT = Endpoint(routes=(Route("GET", "/config/unique-policy-clients", policy_clients),))
