"""Anomalies nobody reviewed, from `GET /security/anomalies` (offset paging, with a count).

One request per severity (HIGH, MEDIUM, LOW) with `page[limit]=1` and the filter
`anomalyStatus eq 'NOT_REVIEWED' and anomalySeverity eq '…'`: `meta.pagination.count` is
the total, whatever the page holds. Each severity is published, 0 included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.paging import count_records
from ..netbackup.query import odata_string
from .base import CollectContext, Collector

PATH = "/security/anomalies"
SEVERITIES = ("HIGH", "MEDIUM", "LOW")


@dataclass
class OpenAnomalies:
    by_severity: dict[str, int] = field(default_factory=dict)


def collect_anomalies(client: NetBackupClient, ctx: CollectContext) -> OpenAnomalies:
    return OpenAnomalies({severity: count_records(
        client, PATH, {"filter": f"anomalyStatus eq {odata_string('NOT_REVIEWED')} and"
                                 f" anomalySeverity eq {odata_string(severity)}"},
        ctx.stats, limit=1) for severity in SEVERITIES})


COLLECTOR: Collector[OpenAnomalies] = Collector(
    name="anomalies",
    probe=PATH,
    reads=f"GET {PATH} (a count per severity; off on HTTP 404)",
    permission="|MANAGE|ANOMALIES| view",
    collect=collect_anomalies,
    absent=OpenAnomalies,
    families=(
        Family("nbu_anomalies_open",
               "Anomalies not yet reviewed (GET /security/anomalies, anomalyStatus"
               " NOT_REVIEWED), by anomalySeverity.", ("severity",),
               lambda s: [((severity,), float(n)) for severity, n in s.by_severity.items()]),
    ),
)
