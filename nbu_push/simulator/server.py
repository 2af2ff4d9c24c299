"""The simulator's HTTP(S) server: a thread serving a Dataset with the NetBackup contract.

Each response goes out in one write with TCP_NODELAY, so latency measured against it is
the injected latency, not Nagle's algorithm meeting delayed ACKs.
"""

from __future__ import annotations

import bisect
import email.utils
import gzip
import json
import math
import os
import random
import re
import secrets
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .data import (
    Dataset,
    Job,
    Series,
    catalog_series,
    clients_series,
    configured_clients,
    disk_pool_series,
    finished_job,
    generate,
    iso_ms,
    job_states_series,
    jobs_series,
    licensing_series,
    render_job,
    slp_series,
    storage_series,
)
from .odata import FilterError, compile_filter

JSON_TYPE = "application/vnd.netbackup+json;version={}"
DATA_PATHS = ("/admin/jobs", "/storage/", "/catalog/", "/licensing/", "/config/")
SORTS = {"jobId": lambda j: j.job_id, "endTime": lambda j: (j.end_ms or -1, j.job_id),
         "startTime": lambda j: (j.start_ms, j.job_id)}


@dataclass
class Faults:
    """Fault injection; `n`-th counts data requests (jobs and storage) from 1."""

    latency_ms: float = 0.0  # added to every response
    jitter_ms: float = 0.0  # plus a uniform random 0..jitter
    burst_503: int = 0  # the first n data requests answer 503
    always_503: bool = False  # every data request answers 503
    reset_at: int = 0  # the n-th data request: connection reset mid-response
    stall_at: int = 0  # the n-th data request: no answer for stall_seconds
    stall_seconds: float = 30.0
    trickle_at: int = 0  # the n-th data request: a byte every 0.3 s, for stall_seconds
    malformed_at: int = 0  # the n-th data request: truncated JSON with status 200
    html_502_at: int = 0  # the n-th data request: a proxy's HTML 502 page
    unauthorized_after: int = 0  # data requests after the n-th answer 401
    repeat_cursor: bool = False  # /admin/jobs always returns the same next cursor
    empty: bool = False  # 200 with empty data (what missing RBAC permissions look like)
    bad_record: bool = False  # one malformed record in the first jobs page
    forbidden: bool = False  # every data request answers 403 (a missing RBAC permission)
    path: str = ""  # only this data path (and those below it) count and get faults
    query: str = ""  # only requests whose decoded query contains this count and get faults

    def applies_to(self, path: str, query: str = "") -> bool:
        prefix = self.path.rstrip("/")
        return ((not prefix or path == prefix or path.startswith(prefix + "/"))
                and self.query in urllib.parse.unquote(query))

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """`latency_ms=20,burst_503=3,repeat_cursor` (a bare name means true)."""
        faults, known = cls(), {f.name: f for f in fields(cls)}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
            kind = type(getattr(faults, name))
            setattr(faults, name, kind(value) if value and kind is not bool else
                    (value.lower() in ("1", "true", "yes") if value else True))
        return faults


@dataclass
class RecordedRequest:
    method: str
    path: str  # below /netbackup
    raw_query: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class _State:
    tokens: set[str] = field(default_factory=set)
    data_requests: int = 0
    gzipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a web server's backlog: no dropped SYN, no 1 s retransmit
    simulator: Simulator

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshakes in the connection's own thread, not one by one in accept()."""
        if isinstance(request, ssl.SSLSocket):
            try:
                request.do_handshake()
            except OSError:  # ssl.SSLError included
                return
        super().finish_request(request, client_address)


def _error(code: int, message: str, details: list[str] | None = None) -> bytes:
    return json.dumps({"errorCode": code, "errorMessage": message,
                       "errorDetails": details or []}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- plumbing ----------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        reason = self.responses.get(status, ("",))[0]
        headers = dict(headers or {})
        sim = self.server.simulator
        if (sim.compress and len(body) > 1024
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
            with sim.state.lock:
                sim.state.gzipped += 1
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}",
                f"Content-Length: {len(body)}", "X-Request-ID: " + secrets.token_hex(8),
                "Date: " + email.utils.formatdate(sim.now_ms() / 1000, usegmt=True)]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def _reset(self, body: bytes) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.wfile.write(head + body[: len(body) // 2])
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _trickle(self, seconds: float) -> None:
        """A peer that never finishes: each byte resets the client's socket timeout."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            time.sleep(0.3)
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                break
        self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        sim = self.server.simulator
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = url.path.removeprefix("/netbackup")
        if sim.record:
            sim.requests.append(RecordedRequest(method, path, url.query, dict(self.headers),
                                                body))
        faults = sim.faults
        if faults.latency_ms or faults.jitter_ms:
            time.sleep((faults.latency_ms + random.uniform(0, faults.jitter_ms)) / 1000)
        if not url.path.startswith("/netbackup/"):
            return self._send(404, _error(404, "Not found."))
        route: Any = ROUTES.get((method, path))
        if route is None and method == "GET" and path.startswith("/admin/jobs/"):
            route = _Handler.job_by_id
        if route is None:
            return self._send(404, _error(404, f"No such resource: {path}"))
        params = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in
                  (item.partition("=") for item in url.query.split("&") if item)}
        if route not in (_Handler.ping, _Handler.login):
            version = self._version()
            if version is None:
                return None
            if not self._authorized():
                return self._send(401, _error(401, "The Authorization header is missing,"
                                  " the token is invalid, or you do not have permission"
                                  " for this action."))
        else:
            version = None
        if path.startswith(DATA_PATHS) and faults.applies_to(path, url.query):
            with sim.state.lock:
                sim.state.data_requests += 1
                number = sim.state.data_requests
            if self._fault(number):
                return None
        return route(self, path=path, params=params, body=body, version=version)

    def _version(self) -> str | None:
        accept = self.headers.get("Accept", "")
        served = self.server.simulator.versions
        prefix = "application/vnd.netbackup+json;version="
        if accept.startswith(prefix) and accept[len(prefix):] in served:
            return accept[len(prefix):]
        self._send(406, _error(406, "Invalid Accept type. Make sure your Accept header"
                               " matches what this API produces."))
        return None

    def _authorized(self) -> bool:
        sim = self.server.simulator
        credential = self.headers.get("Authorization", "")
        return bool(credential) and (credential == sim.api_key or credential in sim.state.tokens)

    def _fault(self, number: int) -> bool:
        faults = self.server.simulator.faults
        if faults.forbidden:
            self._send(403, _error(403, "You do not have permission for this action."))
        elif faults.always_503 or number <= faults.burst_503:
            self._send(503, _error(503, "The server is busy."))
        elif number == faults.html_502_at:
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif number == faults.malformed_at:
            self._send(200, b'{"data": [{"type": "job", "attributes": {"jobId": 1')
        elif number == faults.reset_at:
            self._reset(b'{"data": []' + b" " * 4096 + b"}")
        elif number == faults.stall_at:
            time.sleep(faults.stall_seconds)
            self.close_connection = True
        elif number == faults.trickle_at:
            self._trickle(faults.stall_seconds)
        elif faults.unauthorized_after and number > faults.unauthorized_after:
            self._send(401, _error(401, "The token is invalid."))
        else:
            return False
        return True

    # -- endpoints -----------------------------------------------------------------------
    def ping(self, **_: object) -> None:
        top = max(self.server.simulator.versions, key=lambda v: tuple(map(int, v.split("."))))
        self._send(200, str(self.server.simulator.now_ms()).encode(),
                   f"text/vnd.netbackup+plain;version={top}", {"X-NetBackup-API-Version": top})

    def login(self, body: bytes, **_: object) -> None:
        sim = self.server.simulator
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("application/vnd.netbackup+json;version="):
            return self._send(415, _error(415, "Unsupported Media Type."))
        version = self._version()  # answers 406 itself when the version is not served
        if version is None:
            return None
        if content_type.partition("version=")[2] != version:
            return self._send(406, _error(406, "Content-Type and Accept versions differ."))
        try:
            request = json.loads(body)
        except ValueError:
            return self._send(400, _error(400, "Bad request."))
        if request.get("userName") != sim.username or request.get("password") != sim.password:
            return self._send(401, _error(401, "The user name, password or API Key is wrong."))
        token = secrets.token_urlsafe(32)
        sim.state.tokens.add(token)
        self._send(201, json.dumps({"token": token, "tokenType": "BEARER",
                                    "validity": 86400}).encode(), JSON_TYPE.format(version))
        return None

    def logout(self, **_: object) -> None:
        self.server.simulator.state.tokens.discard(self.headers.get("Authorization", ""))
        self._send(200, b"")

    def jobs(self, params: dict[str, str], version: str, **_: object) -> None:
        sim = self.server.simulator
        try:
            limit = int(params.get("page[limit]", "10"))
        except ValueError:
            limit = -1
        if not 0 <= limit <= 100:
            return self._send(400, _error(400, "Bad request.",
                                          ["page[limit] must be between 0 and 100"]))
        try:
            ordered, position = sim.filtered(params.get("filter", ""), params.get("sort", ""))
        except (FilterError, KeyError) as exc:
            return self._send(400, _error(9401, str(exc).strip("'")))
        start, end = 0, len(ordered)
        try:
            if "page[after]" in params:
                start = position[params["page[after]"]] + 1
            if "page[before]" in params:
                end = position[params["page[before]"]]
                start = max(start, end - limit)
        except KeyError:
            return self._send(400, _error(400, "Bad request.", ["unknown page cursor"]))
        page = ordered[start:min(end, start + limit)]
        if sim.faults.empty:
            page = []
        items = [job.rendered for job in page]
        if sim.faults.bad_record and start == 0 and items:
            items[0] = b'"not a job record"'
        pagination: dict[str, object] = {"limit": limit}
        if page and start + len(page) < end:
            pagination["next"] = str(ordered[0].job_id if sim.faults.repeat_cursor
                                     else page[-1].job_id)
        if page and start > 0:
            pagination["prev"] = str(page[0].job_id)
        base = sim.url + "/admin/jobs"
        links = {"self": {"href": base}, "first": {"href": base}}
        if "next" in pagination:
            links["next"] = {"href": f"{base}?page[after]={pagination['next']}"}
        body = (b'{"links":' + json.dumps(links).encode() + b',"data":[' + b",".join(items)
                + b'],"meta":{"pagination":' + json.dumps(pagination).encode() + b"}}")
        self._send(200, body, JSON_TYPE.format(version))
        return None

    def job_by_id(self, path: str, version: str, **_: object) -> None:
        wanted = path.rsplit("/", 1)[-1]
        for job in self.server.simulator.dataset.jobs:
            if str(job.job_id) == wanted:
                return self._send(200, b'{"data":' + job.rendered + b"}",
                                  JSON_TYPE.format(version))
        return self._send(404, _error(404, f"The job {wanted} was not found."))

    def jobs_count(self, body: bytes, version: str, **_: object) -> None:
        sim = self.server.simulator
        try:
            request = json.loads(body)
            attributes = request["data"]["attributes"]
            assert request["data"]["type"] == "jobCount"
            text = attributes.get("filter", "")
            count = sim.count(text)
        except FilterError as exc:
            return self._send(400, _error(9401, str(exc)))
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._send(400, _error(400, "Bad request."))
        self._send(200, json.dumps({"data": {"type": "jobCount", "id": secrets.token_hex(4),
                                             "attributes": {"count": count,
                                                            "filter": text}}}).encode(),
                   JSON_TYPE.format(version))
        return None

    def _offset_page(self, records: list[bytes], params: dict[str, str], version: str,
                     meta: tuple[str, ...] | None = None) -> None:
        """An offset page; `meta` names the pagination fields to send (None: all of the
        storage documents', empty: no `meta` at all)."""
        try:
            limit = int(params.get("page[limit]", "10"))
            offset = int(params.get("page[offset]", "0"))
        except ValueError:
            limit, offset = -1, -1
        if not 1 <= limit <= 500 or offset < 0:
            return self._send(400, _error(400, "Bad request.",
                                          ["page[limit] 1..500, page[offset] >= 0"]))
        if self.server.simulator.faults.empty:
            records = []
        count = len(records)
        pages = math.ceil(count / limit)
        pagination = {"count": count, "pages": pages, "page": offset // limit,
                      "offset": offset, "limit": limit, "first": 0,
                      "last": max(0, (pages - 1) * limit)}
        if offset + limit < count:
            pagination["next"] = offset + limit
        if offset > 0:
            pagination["prev"] = max(0, offset - limit)
        if meta is not None:
            pagination = {name: pagination[name] for name in meta if name in pagination}
        body = b'{"links":{},"data":[' + b",".join(records[offset:offset + limit]) + b"]"
        if meta != ():
            body += b',"meta":{"pagination":' + json.dumps(pagination).encode() + b"}"
        body += b"}"
        self._send(200, body, JSON_TYPE.format(version))
        return None

    def storage_units(self, params: dict[str, str], version: str, **_: object) -> None:
        units = [unit.rendered for unit in self.server.simulator.dataset.units]
        self._offset_page(units, params, version)

    def disk_pools(self, params: dict[str, str], version: str, **_: object) -> None:
        pools = [pool.rendered for pool in self.server.simulator.dataset.pools]
        self._offset_page(pools, params, version)

    def slp_images(self, params: dict[str, str], version: str, **_: object) -> None:
        """Cursor paging (base64 of backupTime:clientName), oldest first, limit 0..1000."""
        sim = self.server.simulator
        try:
            limit = int(params.get("page[limit]", "100"))
        except ValueError:
            limit = -1
        if not 0 <= limit <= 1000:
            return self._send(400, _error(400, "Bad request.", ["page[limit] 0..1000"]))
        text = params.get("filter", "")
        match = re.fullmatch(r"\s*slpImageState eq '((?:[^']|'')*)'\s*", text)
        if text and not match:
            return self._send(400, _error(9401, "The OData filter criteria is invalid."))
        wanted = match.group(1).replace("''", "'") if match else None
        images = [image for image in sim.dataset.slp_images
                  if wanted is None or image.state == wanted]
        start = 0
        if "page[after]" in params:
            cursors = [image.cursor for image in images]
            if params["page[after]"] not in cursors:
                return self._send(400, _error(400, "Bad request.", ["unknown page cursor"]))
            start = cursors.index(params["page[after]"]) + 1
        page = [] if sim.faults.empty else images[start:start + limit]
        pagination: dict[str, object] = {"limit": limit}
        if page and start + len(page) < len(images):
            pagination["next"] = page[-1].cursor
        body = (b'{"links":{},"data":[' + b",".join(image.rendered for image in page)
                + b'],"meta":{"pagination":' + json.dumps(pagination).encode() + b"}}")
        self._send(200, body, JSON_TYPE.format(version))
        return None

    def policy_clients(self, params: dict[str, str], version: str, **_: object) -> None:
        """`GET /config/unique-policy-clients`: offset paging, page[limit] 1..5000."""
        try:
            limit = int(params.get("page[limit]", "10"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 5000:
            return self._send(400, _error(400, "Bad request.", ["page[limit] 1..5000"]))
        records = [json.dumps({"type": "uniquePolicyClient", "id": name, "attributes": {
            "policyTypes": ["STANDARD"], "policyNames": ["policy-1"], "OS": "Linux",
            "hardware": "x86_64"}}).encode() for name in self.server.simulator.configured]
        return self._offset_page(records, {**params, "page[limit]": str(min(limit, 500))},
                                 version)

    def licensing_capacity(self, params: dict[str, str], version: str, **_: object) -> None:
        sim = self.server.simulator
        if not sim.licensing:
            return self._send(404, _error(404, "No entity found."))
        records = [json.dumps({"type": "capacity", "id": name, "attributes": {
            "masterConsumptionMB": mb, "clientDetails": []}}).encode()
            for name, mb in sim.dataset.consumption_mb.items()]
        return self._offset_page(records, params, version, meta=LICENSING_PAGINATION)

    def licensing_entitlements(self, params: dict[str, str], version: str,
                               **_: object) -> None:
        sim = self.server.simulator
        if not sim.licensing:
            return self._send(404, _error(404, "No entity found."))
        return self._offset_page([e.rendered for e in sim.dataset.entitlements], params,
                                 version, meta=())  # the vendor document declares none


LICENSING_PAGINATION = ("prev", "next", "first", "last", "count", "offset", "limit")

ROUTES = {
    ("GET", "/ping"): _Handler.ping,
    ("POST", "/login"): _Handler.login,
    ("POST", "/logout"): _Handler.logout,
    ("GET", "/admin/jobs"): _Handler.jobs,
    ("POST", "/admin/jobs-count-requests"): _Handler.jobs_count,
    ("GET", "/storage/storage-units"): _Handler.storage_units,
    ("GET", "/storage/disk-pools"): _Handler.disk_pools,
    ("GET", "/catalog/slp-images"): _Handler.slp_images,
    ("GET", "/config/unique-policy-clients"): _Handler.policy_clients,
    ("GET", "/licensing/capacity"): _Handler.licensing_capacity,
    ("GET", "/licensing/entitlements"): _Handler.licensing_entitlements,
}


def self_signed_certificate(directory: str) -> tuple[str, str]:
    """A certificate and key for 127.0.0.1 and localhost, valid two days (needs openssl)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


class Simulator:
    """Serve a Dataset on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self, dataset: Dataset | None = None, *, jobs: int = 5000, units: int = 12,
                 seed: int = 1, versions: tuple[str, ...] = ("14.0", "13.0", "12.0"),
                 api_key: str | None = None, username: str = "nbuadmin",
                 password: str | None = None, faults: Faults | None = None,
                 host: str = "127.0.0.1", port: int = 0, tls: bool = False,
                 compress: bool = False, licensing: bool = True, clock_offset: float = 0.0,
                 record: bool = True, **data_options: object) -> None:
        self.dataset = dataset or generate(jobs=jobs, units=units, seed=seed,
                                           **data_options)  # type: ignore[arg-type]
        self.versions = versions
        self.api_key = api_key or "sim-" + secrets.token_hex(16)
        self.username = username
        self.password = password or "sim-pw-" + secrets.token_hex(8)
        self.faults = faults or Faults()
        self.compress = compress  # gzip bodies over 1 KiB when the client accepts gzip
        self.licensing = licensing  # False: /licensing/* answers 404, as older releases do
        self.clock_offset = clock_offset  # seconds the primary's clock is ahead of ours
        self._rng = random.Random(seed + 1000)
        self.configured = configured_clients(self.dataset.jobs)  # the policies' clients
        self.state = _State()
        self.record = record  # keep every request in `requests` (tests read them)
        self.requests: list[RecordedRequest] = []
        self._cache: OrderedDict[tuple[str, str], tuple[list[Job], dict[str, int]]] = \
            OrderedDict()
        self._cache_lock = threading.Lock()
        self._counts: dict[str, int] = {}  # scanned counts by filter, cleared with `_cache`
        self._by_client: dict[str, list[Job]] = {}  # built when first asked, cleared with it
        self._by_end: list[Job] = []
        self._end_times: list[int] = []
        self.refresh_index()
        self._tls_dir = tempfile.TemporaryDirectory(prefix="nbu-sim-") if tls else None
        self.ca_file: str | None = None
        self._httpd = _Server((host, port), _Handler)
        self._httpd.simulator = self
        if self._tls_dir is not None:
            cert, key = self_signed_certificate(self._tls_dir.name)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
            self.ca_file = cert
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="nbu-simulator")

    def refresh_index(self) -> None:
        """Re-index `dataset.jobs` by end time (after replacing the dataset)."""
        ended = sorted((job for job in self.dataset.jobs if job.end_ms is not None),
                       key=lambda job: job.end_ms or 0)
        with self._cache_lock:
            self._by_end = ended
            self._end_times = [job.end_ms or 0 for job in ended]
            self._cache.clear()
            self._counts.clear()
            self._by_client.clear()

    def now_ms(self) -> int:
        """The simulated primary's clock (its `Date` header), in milliseconds."""
        return int((time.time() + self.clock_offset) * 1000)

    def add_job(self, end_ms: int, **fields: object) -> Job:
        """A job that ended at `end_ms` appears now (a late write, when `end_ms` is past)."""
        with self._cache_lock:
            job_id = max(job.job_id for job in self.dataset.jobs) + 1
            job = finished_job(job_id, end_ms, self._rng, self.url, **fields)
            self.dataset.jobs.append(job)
            at = bisect.bisect_right(self._end_times, end_ms)
            self._end_times.insert(at, end_ms)
            self._by_end.insert(at, job)
            self._cache.clear()
            self._counts.clear()
            self._by_client.clear()
        return job

    def resume_job(self, job: Job, end_ms: int, status: int = 0) -> None:
        """A job ends again (an INCOMPLETE job resumed): NetBackup updates its record."""
        with self._cache_lock:
            job.end_ms, job.status, job.state = end_ms, status, "DONE"
            job.rendered = render_job(job, self.url, self._rng)
        self.refresh_index()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self._tls_dir is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/netbackup"

    def _candidates(self, predicate: Any) -> list[Job]:
        """The jobs a filter can match: by the end-time index when it bounds endTime, by the
        client index when it names one client, else all of them."""
        bounds = getattr(predicate, "end_bounds", None)
        client = getattr(predicate, "client", None)
        if bounds is None and client is not None:
            with self._cache_lock:
                if not self._by_client:
                    for job in self.dataset.jobs:
                        self._by_client.setdefault(job.client, []).append(job)
                return self._by_client.get(client, [])
        if bounds is None:
            return self.dataset.jobs
        with self._cache_lock:
            low = bisect.bisect_left(self._end_times, bounds[0])
            high = bisect.bisect_left(self._end_times, bounds[1])
            return self._by_end[low:high]

    def count(self, text: str) -> int:
        """How many jobs match `filter`, as a database with indexes would: by the end-time
        index, or scanned once per filter (until the jobs change), never sorted."""
        predicate = compile_filter(text) if text else (lambda job: True)
        candidates = self._candidates(predicate)
        if getattr(predicate, "end_only", False):
            return len(candidates)
        with self._cache_lock:
            if text in self._counts:
                return self._counts[text]
        count = sum(1 for job in candidates if predicate(job))
        with self._cache_lock:
            self._counts[text] = count
        return count

    def filtered(self, text: str, sort: str) -> tuple[list[Job], dict[str, int]]:
        """Jobs matching `filter` in `sort` order, with cursor positions; cached per query."""
        key = (text, sort)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        predicate = compile_filter(text) if text else (lambda job: True)
        descending = sort.startswith("-")
        order = SORTS[sort.lstrip("-") or "startTime"]
        ordered = sorted((job for job in self._candidates(predicate) if predicate(job)), key=order,
                         reverse=descending or not sort)
        entry = (ordered, {str(job.job_id): n for n, job in enumerate(ordered)})
        with self._cache_lock:
            self._cache[key] = entry
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return entry

    def truth(self, window_seconds: float, end_ms: int | None = None):
        end = self.dataset.anchor_ms if end_ms is None else end_ms
        return self.dataset.truth(end - int(window_seconds * 1000), end)

    def expected_series(self, window_seconds: float = 3600, read_until_ms: int | None = None,
                        counted_since_ms: int | None = None, read_from_ms: int | None = None
                        ) -> dict[str, Series]:
        """By collector name: every family nbu-push must publish for this data, computed
        from the simulator's own records (not from nbu-push's code).

        Without `read_until_ms` (the watermark nbu-push reports) the window ends at the
        dataset's anchor; with it, the window starts at the minute edge at or before
        `read_until_ms - window` (docs/state.md). Counters cover [counted_since, read_until).
        """
        data = self.dataset
        if read_until_ms is None:
            window = self.truth(window_seconds)
        else:
            since = (read_until_ms - int(window_seconds * 1000)) // 60_000 * 60_000
            window = data.truth(since, read_until_ms)
        counted = (data.truth(counted_since_ms, read_until_ms)
                   if read_until_ms is not None and counted_since_ms is not None else None)
        return {
            "jobs": jobs_series(window, window_seconds, counted, read_until_ms,
                                counted_since_ms),
            "storage": storage_series(data.units),
            "job_states": job_states_series(data.jobs),
            "catalog_backup": catalog_series(data.jobs),
            "disk_pools": disk_pool_series(data.pools),
            "slp_backlog": slp_series(data.slp_images),
            "licensing": (licensing_series(data.consumption_mb, data.entitlements)
                          if self.licensing else licensing_series({}, [])),
            "configured_clients": {"nbu_client_configured": {
                (("client", name),): 1.0 for name in self.configured}},
            "clients": clients_series(
                data.jobs, read_from_ms if read_from_ms is not None else 0,
                read_until_ms if read_until_ms is not None else data.anchor_ms,
                self.configured),
        }

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._tls_dir is not None:
            self._tls_dir.cleanup()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Faults", "RecordedRequest", "Simulator", "iso_ms"]
