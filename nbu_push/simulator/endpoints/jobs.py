"""`GET /admin/jobs` (cursor paging by job id, limit 0..100), one job by id, and
`POST /admin/jobs-count-requests`, over the Dataset's jobs."""

from __future__ import annotations

import json
import secrets

from ..odata import FilterError
from . import Endpoint, Request, Response, Route, error


def jobs(request: Request) -> Response:
    sim, params = request.sim, request.params
    try:
        limit = int(params.get("page[limit]", "10"))
    except ValueError:
        limit = -1
    if not 0 <= limit <= 100:
        return error(400, "Bad request.", ["page[limit] must be between 0 and 100"])
    try:
        ordered, position = sim.filtered(params.get("filter", ""), params.get("sort", ""))
    except (FilterError, KeyError) as exc:
        return error(400, str(exc).strip("'"), code=9401)
    start, end = 0, len(ordered)
    try:
        if "page[after]" in params:
            start = position[params["page[after]"]] + 1
        if "page[before]" in params:
            end = position[params["page[before]"]]
            start = max(start, end - limit)
    except KeyError:
        return error(400, "Bad request.", ["unknown page cursor"])
    page = ordered[start:min(end, start + limit)]
    if request.empty:
        page = []
    items = [job.rendered for job in page]
    if request.faulted and sim.faults.bad_record and start == 0 and items:
        items[0] = b'"not a job record"'
    pagination: dict[str, object] = {"limit": limit}
    if page and start + len(page) < end:
        pagination["next"] = str(ordered[0].job_id if sim.faults.repeat_cursor
                                 else page[-1].job_id)
    if page and start > 0:
        pagination["prev"] = str(page[0].job_id)
    base = sim.url + "/admin/jobs"
    links = {"self": {"href": base}, "first": {"href": base}}
    if "next" in pagination:
        links["next"] = {"href": f"{base}?page[after]={pagination['next']}"}
    return Response(200, b'{"links":' + json.dumps(links).encode() + b',"data":['
                    + b",".join(items) + b'],"meta":{"pagination":'
                    + json.dumps(pagination).encode() + b"}}")


def job_by_id(request: Request) -> Response:
    wanted = request.path.rsplit("/", 1)[-1]
    for job in request.sim.dataset.jobs:
        if str(job.job_id) == wanted:
            return Response(200, b'{"data":' + job.rendered + b"}")
    return error(404, f"The job {wanted} was not found.")


def jobs_count(request: Request) -> Response:
    try:
        document = json.loads(request.body)
        attributes = document["data"]["attributes"]
        assert document["data"]["type"] == "jobCount"
        text = attributes.get("filter", "")
        count = request.sim.count(text)
    except FilterError as exc:
        return error(400, str(exc), code=9401)
    except (ValueError, KeyError, TypeError, AssertionError):
        return error(400, "Bad request.")
    return Response(200, json.dumps({"data": {"type": "jobCount", "id": secrets.token_hex(4),
                                              "attributes": {"count": count,
                                                             "filter": text}}}).encode())


ENDPOINT = Endpoint(routes=(
    Route("GET", "/admin/jobs", jobs),
    Route("GET", "/admin/jobs", job_by_id, below=True),
    Route("POST", "/admin/jobs-count-requests", jobs_count),
))
