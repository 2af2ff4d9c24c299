"""Open and close an authenticated, version-negotiated session for one run."""

from __future__ import annotations

from collections.abc import Sequence

from .auth import Credentials, login, logout
from .client import NetBackupClient
from .query import build_query
from .version import KNOWN_VERSIONS, negotiate


def open_session(
    client: NetBackupClient,
    credentials: Credentials,
    pinned_version: str | None = None,
    ladder: Sequence[str] = KNOWN_VERSIONS,
) -> bool:
    """Authenticate and fix `client.api_version`. Returns True when a login must be undone."""
    if credentials.api_key:
        client.set_credential(credentials.api_key)

        def probe(version: str) -> None:
            client.request("GET", "/admin/jobs", query=build_query({"page[limit]": 1}),
                           version=version)

        client.api_version = pinned_version or negotiate(client, probe, ladder)
        return False

    def login_probe(version: str) -> None:
        client.set_credential(login(client, credentials, version))

    if pinned_version:
        client.api_version = pinned_version
        login_probe(pinned_version)
    else:
        client.api_version = negotiate(client, login_probe, ladder)
        if not client.has_credential:  # the version came from /ping: log in now
            login_probe(client.api_version)
    return True


def close_session(client: NetBackupClient, logged_in: bool) -> None:
    if logged_in:
        logout(client)
    client.close()
