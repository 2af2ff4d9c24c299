"""Media servers, from `GET /config/media-servers` (offset paging, page[limit] 1..500).

Per media server (`hostName`): up (`isMachineUp`: false when it is down, paused or cannot
reach the primary) and an info series with its NetBackup version and `status.name`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector, require_records

PATH = "/config/media-servers"
PAGE_LIMIT = 500  # page[limit] 1..500


class MediaServerAttributes(msgspec.Struct):
    hostName: Any = None
    nbuVersion: Any = None
    isMachineUp: Any = None
    status: Any = None  # {name, resourceBundleKey}


class MediaServerRecord(msgspec.Struct):
    id: Any = None
    attributes: MediaServerAttributes | None = None


decode_media_servers_page = page_decoder(MediaServerRecord)


@dataclass(frozen=True)
class MediaServer:
    up: bool | None  # None: no isMachineUp
    version: str
    status: str


@dataclass
class MediaServers:
    servers: dict[str, MediaServer] = field(default_factory=dict)  # by host name

    def add_records(self, records: Iterable[MediaServerRecord]) -> int:
        """Fold records in; returns how many were skipped (no attributes, no host name)."""
        skipped = 0
        for record in records:
            attrs = record.attributes
            name = label(attrs.hostName, "") if attrs is not None else ""
            if attrs is None or not name:
                skipped += 1
                continue
            status = attrs.status.get("name") if isinstance(attrs.status, dict) else None
            up = attrs.isMachineUp if isinstance(attrs.isMachineUp, bool) else None
            self.servers[name] = MediaServer(up, label(attrs.nbuVersion), label(status))
        return skipped


def collect_media_servers(client: NetBackupClient, ctx: CollectContext) -> MediaServers:
    summary = MediaServers()
    for page in offset_pages(client, PATH, {}, decode_media_servers_page, ctx.stats,
                             ctx.max_pages, PAGE_LIMIT):
        ctx.stats.add(skipped=summary.add_records(page.records))
    require_records(len(summary.servers), PATH)
    return summary


COLLECTOR: Collector[MediaServers] = Collector(
    name="media_servers",
    probe=PATH,
    reads=f"GET {PATH} (offset paging; off on HTTP 404)",
    permission="|MANAGE|MEDIA-SERVERS| view",
    collect=collect_media_servers,
    absent=MediaServers,
    families=(
        Family("nbu_media_server_up",
               "1 if the media server is up (GET /config/media-servers, isMachineUp), 0 if"
               " it is down, paused or cannot reach the primary.", ("media_server",),
               lambda s: [((name,), float(server.up)) for name, server
                          in sorted(s.servers.items()) if server.up is not None]),
        Family("nbu_media_server_info",
               "1 per media server, with its NetBackup version (nbuVersion) and status"
               " (status.name, e.g. ACTIVE_FOR_TAPE_AND_DISK, DEACTIVATED, OFFLINE).",
               ("media_server", "version", "status"),
               lambda s: [((name, server.version, server.status), 1.0)
                          for name, server in sorted(s.servers.items())]),
    ),
)
