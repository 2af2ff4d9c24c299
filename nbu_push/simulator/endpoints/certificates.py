"""`GET /security/certificates` (no paging; filter `isCertDeleted`) and
`GET /security/certificate-authorities` (offset paging): host certificates active, revoked
and deleted, expiring in 10, 45 and 200 days and one expired 3 days ago; an active CA that
expires in 80 days beside an abandoned one."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from ..data import iso_ms
from ..odata import FilterError, record_filter
from ..pages import offset_page
from . import Endpoint, Request, Response, Route, error

DAY_MS = 86_400_000
HOST_FIELDS: dict[str, tuple[Callable[[dict], Any], set[str]]] = {
    name: (itemgetter(name), {"eq", "ne"}) for name in ("isCertDeleted", "hostId")}


def generate(rng: random.Random, anchor_ms: int) -> dict[str, list[dict]]:
    hosts = []
    for index in range(rng.randint(20, 30)):
        days = rng.choice([10, 45, 200, 200, 300, -3])
        state, deleted = rng.choice([(1, False)] * 6 + [(2, False), (1, True)])
        hosts.append({
            "certificateKey": index, "hostId": f"nbu-host-{index:04d}",
            "hostName": f"host{index:03d}.example.com", "serialNumber": 10_000 + index,
            "notBefore": anchor_ms - 300 * DAY_MS, "notAfter": anchor_ms + days * DAY_MS,
            "tokenType": 0, "state": state, "publicKey": "-----BEGIN PUBLIC KEY-----",
            "keySize": 2048, "revocationReason": 0, "hostType": 2,
            "createOn": anchor_ms - 300 * DAY_MS, "updatedOn": anchor_ms - DAY_MS,
            "isCertDeleted": deleted})
    cas = [{"type": "nbcaCertificate", "attributes": {"nbcaCertDetails": {
        "subjectCN": name, "keySize": 2048, "serialNumber": serial,
        "notBefore": iso_ms(anchor_ms - 3000 * DAY_MS),
        "notAfter": iso_ms(anchor_ms + days * DAY_MS),
        "subjectOU": "root@nbu-primary.example.com", "state": state,
        "subjectName": f"CN={name}", "fingerprint": fingerprint}}}
        for name, serial, days, state, fingerprint in (
            ("broker", 1, 80, "ACTIVE", "AA:01"), ("broker-old", 0, -400, "ABANDONED", "AA:00"))]
    return {"hosts": hosts, "cas": cas}


def certificates(request: Request) -> Response:
    try:
        keep = record_filter(request.params.get("filter", ""), HOST_FIELDS)
    except FilterError as exc:
        return error(400, str(exc), code=9401)
    listed = [] if request.empty else [h for h in request.sim.records["certificates"]["hosts"]
                                       if keep(h)]
    return Response(200, json.dumps({"certificateList": listed}).encode())


def authorities(request: Request) -> Response:
    return offset_page(request, [json.dumps(ca).encode()
                                 for ca in request.sim.records["certificates"]["cas"]],
                       max_limit=100)


ENDPOINT = Endpoint(routes=(Route("GET", "/security/certificates", certificates),
                            Route("GET", "/security/certificate-authorities", authorities,
                                  public=True)),
                    generate=generate)
