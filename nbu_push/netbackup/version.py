"""Media-type version negotiation: pin > `GET /ping` header > descending 406 ladder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..runtime.errors import ApiError, ApiUnavailable

if TYPE_CHECKING:
    from .client import NetBackupClient

log = logging.getLogger(__name__)

# NetBackup 11.2, 11.0, 10.5, 10.4 (probably), 10.3. Jobs broke compatibility at 9.0.
KNOWN_VERSIONS: tuple[str, ...] = ("14.0", "13.0", "12.0", "11.0", "10.0")


def parse_version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return None


def best_known(reported: str, known: Sequence[str] = KNOWN_VERSIONS) -> str | None:
    """The highest version nbu-push knows that the server's reported version covers."""
    server = parse_version(reported)
    if server is None:
        return None
    fitting = [v for v in known if (parse_version(v) or ()) <= server]
    return max(fitting, key=lambda v: parse_version(v) or (), default=None)


def version_from_ping(client: NetBackupClient) -> str | None:
    """`X-NetBackup-API-Version` of `GET /ping` (no credentials needed), if the server says."""
    try:
        response = client.request("GET", "/ping", media_type=False, authenticated=False)
    except ApiUnavailable:
        raise
    except ApiError as exc:
        log.debug("ping gave no version: %s", exc)
        return None
    return response.headers.get("X-NetBackup-API-Version")


def negotiate(
    client: NetBackupClient,
    probe: Callable[[str], None],
    ladder: Sequence[str] = KNOWN_VERSIONS,
) -> str:
    """Pick the version; `probe(v)` raises ApiError with status 406 when v is refused."""
    reported = version_from_ping(client)
    if reported:
        chosen = best_known(reported, ladder)
        if chosen:
            log.debug("server reports API version %s; using %s", reported, chosen)
            return chosen
    for version in ladder:
        try:
            probe(version)
        except ApiError as exc:
            if exc.status == 406:
                log.debug("API version %s refused (406)", version)
                continue
            raise
        return version
    raise ApiError(
        "NetBackup refused every API version tried (" + ", ".join(ladder) + ") with HTTP 406;"
        " set NBU_API_VERSION to the version of this server", 406
    )
