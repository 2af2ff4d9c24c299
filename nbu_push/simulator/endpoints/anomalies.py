"""`GET /security/anomalies` (offset paging, page[limit] 1..100, a count): anomalies in every
status and severity, none of them an open LOW one, filtered as the document allows."""

from __future__ import annotations

import random

from ..data import iso_ms
from ..pages import filtered_page
from . import Endpoint, Request, Response, Route

STATUSES = ("ANOMALY", "NOT_REVIEWED", "REPORTED_FALSE_POSITIVE", "IGNORED")
FIELDS = {"anomalyStatus": ("eq",), "anomalySeverity": ("eq", "ne"), "clientName": ("eq",)}


def generate(rng: random.Random, anchor_ms: int) -> list[dict]:
    made = []
    for index in range(rng.randint(40, 70)):
        status = rng.choice(STATUSES)
        severity = rng.choice(("HIGH", "MEDIUM") if status == "NOT_REVIEWED"
                              else ("HIGH", "MEDIUM", "LOW"))
        made.append({"type": "anomaly", "id": f"an-{index}", "attributes": {
            "createdDateTime": iso_ms(anchor_ms - rng.randint(0, 30 * 86_400_000)),
            "clientName": f"client{rng.randint(1, 400):03d}.example.com",
            "policyType": "STANDARD", "anomalyStatus": status, "anomalySeverity": severity,
            "anomalyType": rng.choice(["JOB_BASED", "FILE_BASED", "FILE_ENTROPY"]),
            "anomalyCount": rng.randint(1, 5), "anomalyScore": f"{rng.uniform(0, 10):.1f}"}})
    return made


def anomalies(request: Request) -> Response:
    return filtered_page(request, request.sim.records["anomalies"], FIELDS, max_limit=100,
                         meta=("prev", "next", "first", "last", "count", "offset", "limit"))


ENDPOINT = Endpoint(routes=(Route("GET", "/security/anomalies", anomalies),),
                    generate=generate)
