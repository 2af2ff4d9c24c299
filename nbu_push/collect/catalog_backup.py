"""When the catalog was last backed up: the newest usable hot catalog backup.

A hot catalog backup is a tree: a root (`policyType` NBU_CATALOG) with a staging child and
backup children; whether they are typed DBBACKUP or BACKUP is documented nowhere, and the
root's status is the verdict of the whole (docs/metrics.md, "Which jobs count"). So the
newest root with `state` DONE and `status` 0 or 1 is read, whatever its jobType:
`GET /admin/jobs?filter=policyType eq 'NBU_CATALOG' and state eq 'DONE' and status le
1&sort=-endTime`, skipping the children (a good child of a failed root is not a catalog
backup), at most CATALOG_PAGES pages.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.fields import timestamp
from ..netbackup.jobs import PATH, decode_jobs_page
from ..netbackup.paging import cursor_pages
from ._verdict import is_root
from .base import CollectContext, Collector

CATALOG_FILTER = "policyType eq 'NBU_CATALOG' and state eq 'DONE' and status le 1"
CATALOG_PAGE_LIMIT = 25  # a catalog tree has a root and up to about ten children
CATALOG_PAGES = 4


@dataclass
class CatalogBackup:
    last_success: float | None = None  # Unix time the newest good catalog backup ended


def collect_catalog_backup(client: NetBackupClient, ctx: CollectContext) -> CatalogBackup:
    query = {"filter": CATALOG_FILTER, "sort": "-endTime", "page[limit]": CATALOG_PAGE_LIMIT}
    pages = cursor_pages(client, PATH, query, decode_jobs_page, ctx.stats, CATALOG_PAGES + 1)
    for page in itertools.islice(pages, CATALOG_PAGES):
        for record in page.records:
            attrs = record.attributes
            if attrs is None:
                ctx.stats.add(skipped=1)
            elif is_root(attrs.jobId, attrs.parentJobId):
                ended = timestamp(attrs.endTime)
                if ended is not None:
                    return CatalogBackup(ended)
    return CatalogBackup()


COLLECTOR: Collector[CatalogBackup] = Collector(
    name="catalog_backup",
    probe="/admin/jobs",
    reads=f"GET {PATH} (newest successful NBU_CATALOG root job)",
    permission="|MANAGE|JOBS| view",
    collect=collect_catalog_backup,
    families=(
        Family("nbu_catalog_backup_last_success_timestamp_seconds",
               "End time of the newest hot catalog backup whose root job (policyType"
               " NBU_CATALOG, any jobType) ended with status 0 or 1 (GET /admin/jobs,"
               " endTime); absent when there is none.",
               (), lambda s: [] if s.last_success is None else [((), s.last_success)]),
    ),
)
