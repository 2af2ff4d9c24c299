"""`GET /catalog/slp-images`: cursor paging (base64 of backupTime:clientName), oldest first,
limit 0..1000, filtered by `slpImageState eq '…'`."""

from __future__ import annotations

import re

from ..pages import cursor_page
from . import Endpoint, Request, Response, Route, error


def slp_images(request: Request) -> Response:
    text = request.params.get("filter", "")
    match = re.fullmatch(r"\s*slpImageState eq '((?:[^']|'')*)'\s*", text)
    if text and not match:
        return error(400, "The OData filter criteria is invalid.", code=9401)
    wanted = match.group(1).replace("''", "'") if match else None
    return cursor_page(request, [(image.cursor, image.rendered)
                                 for image in request.sim.dataset.slp_images
                                 if wanted is None or image.state == wanted],
                       default_limit=100, max_limit=1000)


ENDPOINT = Endpoint(routes=(Route("GET", "/catalog/slp-images", slp_images),))
