"""`GET /manage/alerts` (offset paging, a count): job-failure alerts with increasing alert
ids, filtered by `alertId`, `severity` and `category` and sorted by `alertId`; tests add
alerts between runs with `add_alert` (`records["alerts"]["alerts"][records["alerts"]
["generated"]:]` are those added)."""

from __future__ import annotations

import random

from ..data import iso_ms
from ..pages import filtered_page
from . import Endpoint, Request, Response, Route, error

FIELDS = {"alertId": ("eq", "ne", "lt", "gt", "le", "ge"), "severity": ("eq", "ne"),
          "category": ("eq", "ne")}
SEVERITIES = (("ERROR", 60), ("WARNING", 30), ("INFO", 10))
CONTEXTS = ("JOB_STATE_FAILED", "JOB_STATE_SUSPEND", "JOB_TYPE_BACKUP", "GENERAL")


def alert(alert_id: int, created_ms: int, severity: str, context: str = "JOB_STATE_FAILED",
          policy_type: str = "STANDARD") -> dict:
    return {"type": "alert", "id": str(alert_id), "attributes": {
        "titleId": 1, "title": "Job failed", "descriptionId": 2,
        "description": "A backup job failed.", "category": "JOB", "subCategory": policy_type,
        "severity": severity, "context": context, "createdDateTime": iso_ms(created_ms),
        "systemDefined": True, "tags": [], "params": {}}}


def generate(rng: random.Random, anchor_ms: int) -> dict[str, object]:
    made, alert_id = [], rng.randint(1000, 5000)
    for _ in range(rng.randint(30, 60)):
        alert_id += rng.randint(1, 3)
        severity = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
        made.append(alert(alert_id, anchor_ms - rng.randint(0, 7 * 86_400_000), severity,
                          rng.choice(CONTEXTS)))
    return {"alerts": made, "generated": len(made)}


def add_alert(sim, severity: str = "ERROR", **fields: str) -> dict:
    """A new alert, its id above every other, created now on the primary's clock."""
    records = sim.records["alerts"]["alerts"]
    made = alert(max((int(r["id"]) for r in records), default=0) + 1, sim.now_ms(), severity,
                 **fields)
    records.append(made)
    return made


def alerts(request: Request) -> Response:
    sort = request.params.get("sort", "")
    if sort.lstrip("-") not in ("", "alertId"):
        return error(400, f"Sorting on {sort} is not supported.")
    records = sorted(request.sim.records["alerts"]["alerts"], key=lambda r: int(r["id"]),
                     reverse=sort.startswith("-"))
    return filtered_page(request, records, FIELDS, max_limit=100,
                         read={"alertId": lambda record: int(record["id"])})


ENDPOINT = Endpoint(routes=(Route("GET", "/manage/alerts", alerts),), generate=generate)
