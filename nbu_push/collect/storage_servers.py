"""Storage servers, from `GET /storage/storage-servers` (offset paging, page[limit] 1..100).

Per storage server (`name`, `sType`): up (`storageServerState` UP or DOWN) and, for MSDP
servers whose `msdpAttributes` carry it, the deduplication ratio
(`deduplicationRatioPercentage` / 100). Absent where the server does not report it, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import named, page_decoder
from ..netbackup.fields import label, number
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector

PATH = "/storage/storage-servers"
PAGE_LIMIT = 100  # page[limit] 1..100


class StorageServerAttributes(msgspec.Struct):
    name: Any = None
    sType: Any = None
    storageServerState: Any = None
    msdpAttributes: Any = None  # {deduplicationRatioPercentage, …}


class StorageServerRecord(msgspec.Struct):
    id: Any = None
    attributes: StorageServerAttributes | None = None


decode_storage_servers_page = page_decoder(StorageServerRecord)


@dataclass(frozen=True)
class StorageServer:
    up: bool | None  # None: no storageServerState
    deduplication_ratio: float | None


def deduplication_ratio(msdp: object) -> float | None:
    if not isinstance(msdp, dict):
        return None
    percent = number(msdp.get("deduplicationRatioPercentage"))
    return None if percent is None or percent < 0 else percent / 100


@dataclass
class StorageServers:
    servers: dict[tuple[str, str], StorageServer] = field(default_factory=dict)

    def add_records(self, records: Sequence[StorageServerRecord]) -> int:
        """Fold records in; returns how many were skipped (no attributes, no name)."""
        found, skipped = named(records)
        for name, attrs in found:
            state = label(attrs.storageServerState, "").upper()
            self.servers[(name, label(attrs.sType))] = StorageServer(
                state == "UP" if state else None, deduplication_ratio(attrs.msdpAttributes))
        return skipped


def collect_storage_servers(client: NetBackupClient, ctx: CollectContext) -> StorageServers:
    summary = StorageServers()
    for page in offset_pages(client, PATH, {}, decode_storage_servers_page, ctx.stats,
                             ctx.max_pages, PAGE_LIMIT):
        ctx.stats.add(skipped=summary.add_records(page.records))
    return summary


COLLECTOR: Collector[StorageServers] = Collector(
    name="storage_servers",
    probe=PATH,
    reads=f"GET {PATH} (offset paging; off on HTTP 404)",
    permission="|STORAGE|STORAGE-SERVERS| view",
    collect=collect_storage_servers,
    absent=StorageServers,
    families=(
        Family("nbu_storage_server_up",
               "1 if the storage server is UP, 0 if DOWN (GET /storage/storage-servers,"
               " storageServerState).", ("storage_server", "storage_server_type"),
               lambda s: [(key, float(server.up)) for key, server in sorted(s.servers.items())
                          if server.up is not None]),
        Family("nbu_storage_server_deduplication_ratio",
               "Deduplication ratio of an MSDP storage server"
               " (msdpAttributes.deduplicationRatioPercentage / 100).",
               ("storage_server", "storage_server_type"),
               lambda s: [(key, server.deduplication_ratio) for key, server
                          in sorted(s.servers.items())
                          if server.deduplication_ratio is not None]),
    ),
)
