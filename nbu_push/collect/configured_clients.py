"""Configured clients: every client named in a policy, from
`GET /config/unique-policy-clients` (offset paging, up to 5000 per page).

With `nbu_client_last_success_timestamp_seconds`, `nbu_client_configured unless on (client,
site) nbu_client_last_success_timestamp_seconds` lists the clients never backed up. The
`clients` collector also uses this list to look up, once, the last good backup of a
configured client that no job read so far shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label
from ..netbackup.paging import offset_pages
from .base import CollectContext, Collector

PATH = "/config/unique-policy-clients"
PAGE_LIMIT = 5000  # the endpoint's maximum


class PolicyClient(msgspec.Struct):
    id: Any = None  # the client name


decode_clients_page = page_decoder(PolicyClient)


@dataclass
class ConfiguredClients:
    names: set[str] = field(default_factory=set)


def client_filter(include: str | None, exclude: str | None):
    """A predicate from NBU_CLIENT_INCLUDE / NBU_CLIENT_EXCLUDE (regular expressions,
    matched against the whole name; validated by the settings)."""
    wanted = re.compile(include) if include else None
    unwanted = re.compile(exclude) if exclude else None

    def keep(client: str) -> bool:
        return ((wanted is None or wanted.fullmatch(client) is not None)
                and (unwanted is None or unwanted.fullmatch(client) is None))

    return keep


def collect_configured_clients(client: NetBackupClient, ctx: CollectContext
                               ) -> ConfiguredClients:
    keep = client_filter(ctx.options.client_include, ctx.options.client_exclude)
    summary = ConfiguredClients()
    for page in offset_pages(client, PATH, {}, decode_clients_page, ctx.stats, ctx.max_pages,
                             PAGE_LIMIT):
        nameless = 0
        for record in page.records:
            name = label(record.id, "")
            if not name:
                nameless += 1
            elif keep(name):
                summary.names.add(name)
        ctx.stats.add(skipped=nameless)
    return summary


COLLECTOR: Collector[ConfiguredClients] = Collector(
    name="configured_clients",
    probe="/config/unique-policy-clients",
    reads=f"GET {PATH} (offset paging)",
    permission="|PROTECTION|POLICIES| view",
    collect=collect_configured_clients,
    families=(
        Family("nbu_client_configured",
               "1 for every client named in a policy (GET /config/unique-policy-clients).",
               ("client",), lambda s: [((name,), 1) for name in sorted(s.names)]),
    ),
)
