"""Catalog backup freshness: when the NetBackup catalog last got a usable backup.

One `GET /admin/jobs` with `policyType eq 'NBU_CATALOG' and jobType eq 'BACKUP' and
state eq 'DONE' and status le 1`, `sort=-endTime`, `page[limit]=1`: the newest catalog
backup job that ended with status 0 or 1. No such job: the series is absent (an alert on
`absent()` then says the catalog was never backed up, or not within job retention).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from .base import CollectContext, Collector
from .jobs import PATH, first_job_time

CATALOG_FILTER = ("policyType eq 'NBU_CATALOG' and jobType eq 'BACKUP' and state eq 'DONE'"
                  " and status le 1")


@dataclass
class CatalogBackup:
    last_success: float | None = None  # Unix time the newest good catalog backup ended


def collect_catalog_backup(client: NetBackupClient, ctx: CollectContext) -> CatalogBackup:
    return CatalogBackup(first_job_time(client, ctx, CATALOG_FILTER, "-endTime", "endTime"))


COLLECTOR: Collector[CatalogBackup] = Collector(
    name="catalog_backup",
    probe="/admin/jobs",
    reads=f"GET {PATH} (newest successful NBU_CATALOG backup job)",
    permission="|MANAGE|JOBS| view",
    collect=collect_catalog_backup,
    families=(
        Family("nbu_catalog_backup_last_success_timestamp_seconds",
               "End time of the newest NBU_CATALOG backup job with status 0 or 1"
               " (GET /admin/jobs, endTime); absent when there is none.",
               (), lambda s: [] if s.last_success is None else [((), s.last_success)]),
    ),
)
