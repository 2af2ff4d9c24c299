"""API key or user login: how nbu-push proves who it is to NetBackup."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..runtime.errors import ApiError, NbuPushError
from ..runtime.logs import add_secrets

if TYPE_CHECKING:
    from .client import NetBackupClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """An API key (preferred), or a user name and password for `POST /login`."""

    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    domain_type: str | None = None
    domain_name: str | None = None

    def secrets(self) -> list[str]:
        return [value for value in (self.api_key, self.password) if value]


def login(client: NetBackupClient, credentials: Credentials, version: str | None = None) -> str:
    """`POST /login`; returns the token (sent later as is, like an API key)."""
    body = {"userName": credentials.username, "password": credentials.password}
    if credentials.domain_type:
        body["domainType"] = credentials.domain_type
    if credentials.domain_name:
        body["domainName"] = credentials.domain_name
    document = client.post_json("/login", body, version=version, authenticated=False)
    token = document.get("token")
    if not isinstance(token, str) or not token:
        raise ApiError("POST /login: the response carries no token")
    add_secrets([token])
    return token


def logout(client: NetBackupClient) -> None:
    """Release a login token; a failure here only costs the server a stale session."""
    try:
        client.request("POST", "/logout", retry=False)
    except NbuPushError as exc:
        log.debug("logout failed: %s", exc)
