"""`nbu-push check`: a preflight run once after installing. One line per check, the fix for
each failure; nothing is pushed or written (temporary probe files are removed at once).

Checks, in order, each only when the one before it passed where it depends on it:
configuration, DNS, TCP, TLS and the primary's answer (`GET /ping`), authentication and the
API version, each collector's RBAC permission (one cheap request each), the Pushgateway
(`GET /api/v1/status`, with the configured credentials), the textfile directory, the lock
and the run-state locations.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .config import RemoteWriteSettings, Settings, env, lock_path, settings_from, value
from .netbackup.query import build_query
from .runtime.errors import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ApiError,
    AuthError,
    ConfigError,
    NbuPushError,
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        tail = f" (fix: {self.fix})" if not self.ok and self.fix else ""
        return f"{mark} {self.name}: {self.detail}{tail}"


def _writable(directory: str) -> str | None:
    """None when a file can be created in `directory` (tried, then removed), else why not."""
    probe = os.path.join(directory, f".nbu-push-check.{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def _existing_parent(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    while directory != "/" and not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    return directory


def checks(raw: dict) -> list[Check]:
    """Run every check that applies; stop at the first failed one others depend on."""
    found: list[Check] = []
    try:
        settings = settings_from({**raw, "dry_run": True})
    except ConfigError as exc:
        return [Check("configuration", False, str(exc), "see nbu-push --help and .env.example")]
    found.append(Check("configuration", True, f"site {settings.site}, {settings.base_url}"))
    parts = urllib.parse.urlsplit(settings.base_url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        addresses = {str(info[4][0])
                     for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except OSError as exc:
        found.append(Check("DNS", False, f"{host}: {exc.strerror or exc}",
                           f"check {env('url')} and the resolver"))
        return found
    found.append(Check("DNS", True, f"{host} is {', '.join(sorted(addresses))}"))
    try:
        socket.create_connection((host, port), timeout=settings.timeout).close()
    except OSError as exc:
        found.append(Check("TCP", False, f"{host}:{port}: {exc.strerror or exc}",
                           "open the port (1556 is NetBackup's) on the way to the primary"))
        return found
    found.append(Check("TCP", True, f"{host}:{port} accepts connections"))
    found += _netbackup_checks(settings)
    lock = lock_path(value(raw, "lock_file"), settings.site, dry_run=False)
    found += _output_checks(settings, lock)
    return found


def _netbackup_checks(settings: Settings) -> list[Check]:
    from .collect import collectors
    from .netbackup.session import close_session, open_session
    from .runtime.deadline import Deadline

    found: list[Check] = []
    client = settings.client(Deadline(settings.timeout * 4), 2)
    tls = "https" if settings.base_url.startswith("https") else "plain http (no TLS)"
    try:
        client.request("GET", "/ping", media_type=False, authenticated=False, retry=False)
    except ApiError as exc:
        if exc.status is None:
            found.append(Check("TLS and /ping", False, str(exc),
                               f"set {env('ca_bundle')} to the NetBackup CA (GET /security/cacert)"
                               " and use the host name the certificate names"))
            client.close()
            return found
    found.append(Check("TLS and /ping", True, f"{tls}, the primary answers"))
    logged_in = False
    try:
        logged_in = open_session(client, settings.credentials, settings.api_version)
        try:  # the version may come from /ping: one authenticated request proves the key
            client.request("GET", "/admin/jobs", query=build_query({"page[limit]": 1}),
                           retry=False)
        except AuthError as exc:
            if exc.status != 403:  # 403: the key is good, a permission is missing (below)
                raise
    except NbuPushError as exc:
        found.append(Check("authentication", False, str(exc),
                           f"check {env('api_key_file')} (or the user), and that the key is valid"))
        close_session(client, False)
        return found
    found.append(Check("authentication", True, f"API version {client.api_version}"))
    declared = collectors()
    for name in settings.collectors or tuple(declared):
        collector = declared[name]
        path = collector.probe
        if path is None:
            continue
        try:
            client.request("GET", path, query=build_query({"page[limit]": 1}), retry=False)
        except AuthError as exc:
            found.append(Check(f"permission for {name}", False, f"HTTP {exc.status} on {path}",
                               f"grant {collector.permission}, or leave {name} out of"
                               f" {env('collectors')}"))
            continue
        except ApiError as exc:
            if exc.status == 404 and collector.absent is not None:
                found.append(Check(f"permission for {name}", True,
                                   "not offered by this primary or release: no series from it"))
                continue
            found.append(Check(f"permission for {name}", False, str(exc), "see the log line"))
            continue
        found.append(Check(f"permission for {name}", True, f"{collector.permission}"))
    close_session(client, logged_in)
    return found


def _output_checks(settings: Settings, lock: str | None) -> list[Check]:
    found: list[Check] = []
    gateway = settings.pushgateway
    if gateway is not None:
        found.append(_gateway_check(gateway))
    if settings.remote_write is not None:
        found.append(_remote_write_check(settings.remote_write))
    if settings.textfile:
        why = _writable(os.path.dirname(settings.textfile))
        found.append(Check("textfile directory", why is None,
                           f"{os.path.dirname(settings.textfile)}"
                           + (f": {why}" if why else " is writable"),
                           "let this user write there (chmod 2775 and a shared group)"))
    for what, path in (("lock", lock), ("run state", settings.state_file)):
        if path is None:
            continue
        directory = _existing_parent(path)
        why = _writable(directory)
        found.append(Check(f"{what} location", why is None,
                           f"{path}" + (f": {directory}: {why}" if why else " can be written"),
                           f"make {directory} writable for this user, or set"
                           f" {env('lock_file') if what == 'lock' else env('state_file')}"))
    return found


def _gateway_check(gateway) -> Check:
    import requests

    from .runtime.http import basic_or_bearer, new_session

    session = new_session(gateway.url, auth=basic_or_bearer(gateway.username,
                                                            gateway.password, gateway.token))
    try:
        response = session.get(gateway.url + "/api/v1/status", verify=gateway.verify,
                               timeout=gateway.timeout, allow_redirects=False)
    except requests.exceptions.SSLError:
        return Check("Pushgateway", False, f"{gateway.url}: TLS verification failed",
                     f"set {env('pushgateway_ca_bundle')}")
    except requests.exceptions.RequestException as exc:
        return Check("Pushgateway", False, f"{gateway.url}: {type(exc).__name__}",
                     f"check {env('pushgateway')} and that the gateway runs")
    finally:
        session.close()
    if response.status_code in (401, 403):
        return Check("Pushgateway", False, f"{gateway.url}: HTTP {response.status_code}",
                     f"check {env('pushgateway_username')} and {env('pushgateway_password')}"
                     " (or the token)")
    if response.status_code != 200:
        return Check("Pushgateway", False, f"{gateway.url}: HTTP {response.status_code}",
                     f"check {env('pushgateway')}")
    return Check("Pushgateway", True, f"{gateway.url} answers and takes the credentials")


def _remote_write_check(target: RemoteWriteSettings) -> Check:
    """An empty WriteRequest: the protocol's one way to try an endpoint, its credentials and
    its TLS without writing a sample."""
    from .runtime.deadline import Deadline

    try:
        target.sink(Deadline(target.timeout), 0, {}).probe()
    except NbuPushError as exc:
        return Check("remote write", False, str(exc),
                     f"check {env('remote_write')}, its credentials and"
                     f" {env('remote_write_ca_bundle')}")
    return Check("remote write", True,
                 f"{target.url} accepts an empty write request (nothing was written)")


def run_check(raw: dict, output_format: str, echo: Callable[[str], None]) -> int:
    """Print the checks (text or JSON); 0 only when every check passed, 78 when the
    configuration itself is wrong (as for a run), else 1."""
    results = checks(raw)
    if output_format == "json":
        echo(json.dumps({"ok": all(c.ok for c in results),
                         "checks": [asdict(c) for c in results]}, ensure_ascii=False))
    else:
        for result in results:
            echo(result.line())
    if all(c.ok for c in results):
        return EXIT_OK
    return EXIT_CONFIG if results[0].name == "configuration" and not results[0].ok else EXIT_FAILED
