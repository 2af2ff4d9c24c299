"""The one way nbu-push makes an HTTP session (NetBackup and the Pushgateway alike).

No trust in the environment beyond the proxy variables, read once: `~/.netrc` can never
replace a configured credential, and `REQUESTS_CA_BUNDLE` can never override the configured
TLS trust (callers pass `verify` with every request). Credentials travel as auth objects, so
they are attached to the prepared request and never sit in the session's default headers.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth

from .. import __version__

USER_AGENT = f"nbu-push/{__version__}"
# --insecure is warned about once per run by nbu-push itself, not once per request.
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)


class HeaderAuth(AuthBase):
    """`Authorization: <prefix><secret>`; the secret never shows in a repr."""

    def __init__(self, secret: str, prefix: str = "") -> None:
        self._value = prefix + secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "HeaderAuth(<redacted>)"


def basic_or_bearer(username: str | None, password: str | None,
                    token: str | None) -> AuthBase | None:
    """Basic auth for a user and password, a bearer token for a proxy, or nothing."""
    if username and password:
        return HTTPBasicAuth(username, password)
    if token:
        return HeaderAuth(token, "Bearer ")
    return None


class TrustCheckedOnce(HTTPAdapter):
    """requests checks the TLS trust settings before every request: `os.path.exists` and
    `os.path.isdir` of the CA bundle for the pool, and `isdir` again to pick the pool, each
    a system call that gives the interpreter lock away and must win it back (2 to 3 % of a
    100,000-job run's wall time, docs/performance.md). A pool keeps what the check set on
    it, so it is checked again only when the pool or the `verify` and `cert` values change;
    and a pool is picked by what requests made of the same origin and values before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._pool_keys: dict[tuple, Any] = {}  # (origin, verify, cert) -> requests' answer

    def build_connection_pool_key_attributes(self, request: Any, verify: Any,
                                             cert: Any = None) -> Any:
        origin = tuple(request.url.split("/", 3)[:3])  # scheme, "", authority
        made = self._pool_keys.get((origin, verify, cert))
        if made is None:
            made = self._pool_keys[(origin, verify, cert)] = \
                super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = made
        return dict(host_params), dict(pool_kwargs)  # copies: the caller's to change

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        settings = (url.lower().startswith("https"), verify, cert)
        with self._lock:
            if self._checked.get(conn) == settings:
                return
        super().cert_verify(conn, url, verify, cert)
        with self._lock:
            self._checked[conn] = settings


def new_session(base_url: str, pool_size: int = 2,
                auth: AuthBase | None = None) -> requests.Session:
    """A session for one host: pooled connections, our User-Agent, proxies read once."""
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.trust_env = False  # no .netrc, no CA bundle or proxies re-read per request
    session.headers["User-Agent"] = USER_AGENT
    session.auth = auth
    adapter = TrustCheckedOnce(pool_connections=2, pool_maxsize=max(pool_size, 2))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
