"""`GET /licensing/capacity` and `GET /licensing/entitlements`: 404 when the simulator plays
a release without licensing."""

from __future__ import annotations

import json

from ..pages import offset_page
from . import Endpoint, Request, Response, Route, error

CAPACITY_PAGINATION = ("prev", "next", "first", "last", "count", "offset", "limit")
NOT_FOUND = error(404, "No entity found.")


def capacity(request: Request) -> Response:
    sim = request.sim
    if not sim.licensing:
        return NOT_FOUND
    records = [json.dumps({"type": "capacity", "id": name, "attributes": {
        "masterConsumptionMB": mb, "clientDetails": []}}).encode()
        for name, mb in sim.dataset.consumption_mb.items()]
    return offset_page(request, records, meta=CAPACITY_PAGINATION)


def entitlements(request: Request) -> Response:
    sim = request.sim
    if not sim.licensing:
        return NOT_FOUND
    return offset_page(request, [e.rendered for e in sim.dataset.entitlements],
                       meta=())  # the vendor document declares none


ENDPOINT = Endpoint(routes=(
    Route("GET", "/licensing/capacity", capacity),
    Route("GET", "/licensing/entitlements", entitlements),
))
