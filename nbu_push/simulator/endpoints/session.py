"""`GET /ping`, `POST /login` and `POST /logout`: the session, outside fault injection."""

from __future__ import annotations

import json
import secrets

from . import JSON_PREFIX, NOT_ACCEPTABLE, Endpoint, Request, Response, Route, error, served_version


def ping(request: Request) -> Response:
    top = max(request.sim.versions, key=lambda v: tuple(map(int, v.split("."))))
    return Response(200, str(request.sim.now_ms()).encode(),
                    f"text/vnd.netbackup+plain;version={top}", {"X-NetBackup-API-Version": top})


def login(request: Request) -> Response:
    sim = request.sim
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith(JSON_PREFIX):
        return error(415, "Unsupported Media Type.")
    version = served_version(sim, request.headers)
    if version is None:
        return NOT_ACCEPTABLE
    if content_type.partition("version=")[2] != version:
        return error(406, "Content-Type and Accept versions differ.")
    try:
        credentials = json.loads(request.body)
    except ValueError:
        return error(400, "Bad request.")
    if credentials.get("userName") != sim.username or credentials.get("password") != sim.password:
        return error(401, "The user name, password or API Key is wrong.")
    token = secrets.token_urlsafe(32)
    sim.state.tokens.add(token)
    return Response(201, json.dumps({"token": token, "tokenType": "BEARER",
                                     "validity": 86400}).encode(), JSON_PREFIX + version)


def logout(request: Request) -> Response:
    request.sim.state.tokens.discard(request.headers.get("Authorization", ""))
    return Response(200, b"", "application/json")


ENDPOINT = Endpoint(routes=(
    Route("GET", "/ping", ping, data=False, public=True, versioned=False),
    Route("POST", "/login", login, data=False, public=True, versioned=False),
    Route("POST", "/logout", logout, data=False),
))
