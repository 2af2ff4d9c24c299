"""`GET /storage/disk-pools`: offset paging over the Dataset's pools."""

from __future__ import annotations

from ..pages import offset_page
from . import Endpoint, Request, Response, Route


def disk_pools(request: Request) -> Response:
    return offset_page(request, [pool.rendered for pool in request.sim.dataset.pools])


ENDPOINT = Endpoint(routes=(Route("GET", "/storage/disk-pools", disk_pools),))
