"""The simulator's HTTP(S) server: a thread serving a Dataset with the NetBackup contract.

Each response goes out in one write with TCP_NODELAY, so latency measured against it is
the injected latency, not Nagle's algorithm meeting delayed ACKs.
"""

from __future__ import annotations

import bisect
import email.utils
import gzip
import os
import random
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

from .data import Dataset, Job, configured_clients, finished_job, generate, iso_ms, render_job
from .endpoints import (
    NOT_ACCEPTABLE,
    Request,
    Response,
    endpoints,
    error,
    find_route,
    served_version,
)
from .odata import compile_filter

JSON_TYPE = "application/vnd.netbackup+json;version={}"
SORTS = {"jobId": lambda j: j.job_id, "endTime": lambda j: (j.end_ms or -1, j.job_id),
         "startTime": lambda j: (j.start_ms, j.job_id)}


@dataclass
class Faults:
    """Fault injection; `n`-th counts data requests (every route but the session's) from 1."""

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
        route = find_route(method, path) if url.path.startswith("/netbackup/") else None
        if route is None or path.startswith(sim.absent):
            return self._respond(error(404, f"No such resource: {path}"), None)
        version = None
        if route.versioned:
            version = served_version(sim, self.headers)
            if version is None:
                return self._respond(NOT_ACCEPTABLE, None)
        if not route.public and not self._authorized():
            return self._respond(error(401, "The Authorization header is missing, the"
                                       " token is invalid, or you do not have permission"
                                       " for this action."), None)
        faulted = route.data and faults.applies_to(path, url.query)
        if faulted:
            with sim.state.lock:
                sim.state.data_requests += 1
                number = sim.state.data_requests
            if self._fault(number):
                return None
        params = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in
                  (item.partition("=") for item in url.query.split("&") if item)}
        request = Request(sim, method, path, params, body, version, self.headers, faulted)
        return self._respond(route.handle(request), version)

    def _respond(self, response: Response, version: str | None) -> None:
        self._send(response.status, response.body,
                   response.content_type or JSON_TYPE.format(version), response.headers)

    def _authorized(self) -> bool:
        sim = self.server.simulator
        credential = self.headers.get("Authorization", "")
        return bool(credential) and (credential == sim.api_key or credential in sim.state.tokens)

    def _fault(self, number: int) -> bool:
        faults = self.server.simulator.faults
        if faults.forbidden:
            self._respond(error(403, "You do not have permission for this action."), None)
        elif faults.always_503 or number <= faults.burst_503:
            self._respond(error(503, "The server is busy."), None)
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
            self._respond(error(401, "The token is invalid."), None)
        else:
            return False
        return True


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
                 absent: tuple[str, ...] = (),
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
        self.absent = absent  # these paths (and below) answer 404: a primary without tape
        self.clock_offset = clock_offset  # seconds the primary's clock is ahead of ours
        self._rng = random.Random(seed + 1000)
        self.configured = configured_clients(self.dataset.jobs)  # the policies' clients
        self.records = {name: endpoint.generate(random.Random(f"{seed}:{name}"),
                                                self.dataset.anchor_ms)
                        for name, endpoint in endpoints().items()
                        if endpoint.generate is not None}  # each endpoint's own data
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
