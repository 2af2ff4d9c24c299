"""Certificate expiry, from `GET /security/certificates` (NetBackup 11.0 and later, no
paging) and `GET /security/certificate-authorities` (offset paging).

Host certificates (without which a host's backups stop) count when active (`state` 1) and
not deleted (`isCertDeleted` false); `notAfter` is in milliseconds. `within` counts those
that expire before now plus 30 or 60 days, so one already expired still counts. A release
without the host certificate list (10.5) answers 404 there: the CA series are published
alone. "Now" is the primary's clock (its `Date` header).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family, Sample
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label, number, timestamp
from ..netbackup.paging import offset_pages
from ..netbackup.query import build_query
from ..runtime.errors import ApiError
from .base import CollectContext, Collector

log = logging.getLogger("nbu_push")

HOSTS_PATH = "/security/certificates"
CA_PATH = "/security/certificate-authorities"
CA_PAGE_LIMIT = 100  # page[limit] 1..100
WITHIN = (("30d", 30 * 86400), ("60d", 60 * 86400))
ACTIVE = 1  # `state`: 1 active, 2 revoked


class HostCertificate(msgspec.Struct):
    hostName: Any = None
    notAfter: Any = None
    state: Any = None
    isCertDeleted: Any = None


class CertificateList(msgspec.Struct):
    certificateList: list[Any] | None = None


class CaAttributes(msgspec.Struct):
    nbcaCertDetails: Any = None  # {subjectCN, notAfter, state, …}


class CaRecord(msgspec.Struct):
    id: Any = None
    attributes: CaAttributes | None = None


decode_certificates = msgspec.json.Decoder(CertificateList)
decode_cas_page = page_decoder(CaRecord)


@dataclass
class Certificates:
    now: float = 0.0
    host_expiries: list[float] | None = None  # notAfter (s) of active host certificates;
    # None: the release has no host certificate list
    ca_expiries: dict[str, float] = field(default_factory=dict)  # subject CN -> notAfter


def host_expiry(item: object) -> float | None:
    """notAfter in seconds of an active, not deleted certificate; else None."""
    if not isinstance(item, dict) or item.get("isCertDeleted") is True:
        return None
    if number(item.get("state")) != ACTIVE:
        return None
    after = number(item.get("notAfter"))
    return after / 1000 if after is not None and after > 0 else None


def read_host_expiries(client: NetBackupClient, ctx: CollectContext) -> list[float] | None:
    try:
        response = client.request("GET", HOSTS_PATH,
                                  query=build_query({"filter": "isCertDeleted eq false"}),
                                  stats=ctx.stats)
    except ApiError as exc:
        if exc.status != 404:
            raise
        log.info("certificates: this primary does not offer GET %s (HTTP 404, before"
                 " NetBackup 11.0); no host certificate series", HOSTS_PATH)
        return None
    try:
        document = decode_certificates.decode(response.content)
    except msgspec.DecodeError:
        raise ApiError(f"GET {HOSTS_PATH}: not a certificate list") from None
    items = document.certificateList or []
    ctx.stats.add(pages=1, records=len(items))
    expiries = [host_expiry(item) for item in items]
    return [after for after in expiries if after is not None]


def collect_certificates(client: NetBackupClient, ctx: CollectContext) -> Certificates:
    summary = Certificates()
    for page in offset_pages(client, CA_PATH, {}, decode_cas_page, ctx.stats, ctx.max_pages,
                             CA_PAGE_LIMIT, authenticated=False):  # the vendor's: no credentials
        for record in page.records:
            details = record.attributes.nbcaCertDetails if record.attributes else None
            if not isinstance(details, dict):
                ctx.stats.add(skipped=1)
                continue
            after = timestamp(details.get("notAfter"))
            state = label(details.get("state"), "ACTIVE").upper()
            if after is not None and state == "ACTIVE":
                name = label(details.get("subjectCN"), "") or label(record.id)
                summary.ca_expiries[name] = after
    summary.host_expiries = read_host_expiries(client, ctx)
    summary.now = client.server_now() or ctx.now
    return summary


def _expiring(summary: Certificates) -> Iterator[Sample]:
    if summary.host_expiries is None:
        return
    for within, seconds in WITHIN:
        yield (within,), float(sum(1 for after in summary.host_expiries
                                   if after < summary.now + seconds))


COLLECTOR: Collector[Certificates] = Collector(
    name="certificates",
    probe=HOSTS_PATH,
    reads=f"GET {CA_PATH} (offset paging), GET {HOSTS_PATH} (11.0 and later; off on"
          " HTTP 404)",
    permission="|SECURITY|CERTIFICATE-MANAGEMENT|NETBACKUP-CERTIFICATES| view",
    collect=collect_certificates,
    absent=Certificates,
    families=(
        Family("nbu_certificates_expiring",
               "Active host certificates (GET /security/certificates, state 1, not deleted)"
               " whose notAfter is within 30 or 60 days, already expired ones included.",
               ("within",), _expiring),
        Family("nbu_certificate_earliest_expiry_timestamp_seconds",
               "The earliest notAfter among the active host certificates.", (),
               lambda s: [((), min(s.host_expiries))] if s.host_expiries else []),
        Family("nbu_ca_certificate_expiry_timestamp_seconds",
               "notAfter of each active NetBackup CA certificate"
               " (GET /security/certificate-authorities, nbcaCertDetails).", ("ca",),
               lambda s: [((name,), after) for name, after in sorted(s.ca_expiries.items())]),
    ),
)
