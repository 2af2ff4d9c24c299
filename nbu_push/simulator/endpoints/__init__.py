"""The simulator's endpoints: every module in this package (but those starting with `_`)
declares one `ENDPOINT`, found by `endpoints()` as collectors are found by
`nbu_push.collect.collectors()`.

An endpoint module holds what one part of the vendor API serves: its routes (a handler
from a Request to a Response), and, for data the Dataset does not hold, the generator of its
records (`sim.records[name]`, made once from the seed). Adding one is a new module here:
nothing else is edited.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import Simulator


@dataclass(frozen=True)
class Request:
    sim: Simulator
    method: str
    path: str  # below /netbackup
    params: dict[str, str]  # the decoded query
    body: bytes
    version: str | None  # the served version the client asked for (None on public routes)
    headers: Message  # the request's, as http.server parsed them
    faulted: bool = False  # the faults apply to it (Faults.path and Faults.query match)

    @property
    def empty(self) -> bool:
        """Answer with no records, as NetBackup does where the role cannot see them."""
        return self.faulted and self.sim.faults.empty


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str | None = None  # None: the vendor's JSON type at the request's version
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # exact, or with `below`, the prefix of the paths it serves
    handle: Handler
    below: bool = False  # serves `path/<anything>` (e.g. one job by id)
    data: bool = True  # counted for fault injection (all but the session routes)
    public: bool = False  # no credentials asked for (ping, login, the CA list)
    versioned: bool = True  # the Accept header's version is checked (login does it itself)


@dataclass(frozen=True)
class Endpoint:
    routes: tuple[Route, ...]
    # (a random generator seeded for this endpoint, the dataset's anchor in ms) -> records
    generate: Callable[[random.Random, int], Any] | None = None


def error(status: int, message: str, details: list[str] | None = None,
          code: int | None = None) -> Response:
    """The vendor's error document; `code` when its errorCode differs from the status."""
    return Response(status, json.dumps({"errorCode": code or status, "errorMessage": message,
                                        "errorDetails": details or []}).encode(),
                    "application/json")


JSON_PREFIX = "application/vnd.netbackup+json;version="
NOT_ACCEPTABLE = error(406, "Invalid Accept type. Make sure your Accept header matches what"
                       " this API produces.")


def served_version(sim: Simulator, headers: Message) -> str | None:
    """The version the `Accept` header asks for, when the simulator serves it."""
    accept = headers.get("Accept", "")
    wanted = accept[len(JSON_PREFIX):] if accept.startswith(JSON_PREFIX) else None
    return wanted if wanted in sim.versions else None


@functools.cache
def endpoints() -> Mapping[str, Endpoint]:
    """Every declared endpoint by module name (loaded once); two routes for one method and
    path fail here, not at request time."""
    found: dict[str, Endpoint] = {}
    routes: dict[tuple[str, str, bool], str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        endpoint = getattr(module, "ENDPOINT", None)
        if not isinstance(endpoint, Endpoint):
            raise TypeError(f"{module.__name__} declares no ENDPOINT = Endpoint(...)")
        for route in endpoint.routes:
            key = (route.method, route.path, route.below)
            if key in routes:
                raise ValueError(f"{route.method} {route.path} is served by both"
                                 f" {routes[key]} and {info.name}")
            routes[key] = info.name
        found[info.name] = endpoint
    return found


def find_route(method: str, path: str) -> Route | None:
    """The route serving `method path`: an exact path first, then the longest `below`."""
    best: Route | None = None
    for endpoint in endpoints().values():
        for route in endpoint.routes:
            if route.method != method:
                continue
            if route.path == path and not route.below:
                return route
            if (route.below and path.startswith(route.path + "/")
                    and (best is None or len(route.path) > len(best.path))):
                best = route
    return best
