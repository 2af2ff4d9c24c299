"""`GET /storage/storage-units`: offset paging over the Dataset's units."""

from __future__ import annotations

from ..pages import offset_page
from . import Endpoint, Request, Response, Route


def storage_units(request: Request) -> Response:
    return offset_page(request, [unit.rendered for unit in request.sim.dataset.units])


ENDPOINT = Endpoint(routes=(Route("GET", "/storage/storage-units", storage_units),))
