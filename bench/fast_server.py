"""A NetBackup server for benchmarks that is never the bottleneck: pre-encoded job records.

The simulator answers like NetBackup and checks every request against the vendor's rules;
that costs it time per page (http.server parses each request's headers, a query's filter is
compiled), time during which a client waits and which hides the client's own overhead. This
server serves the simulator's jobs (the same Dataset, the same seed) the way a database with
an end-time index would: each job's JSON is encoded once at start, sorted by (endTime,
jobId), and a page is a slice found by bisection and joined. It speaks just enough HTTP/1.1
(keep-alive, Content-Length) over TLS, a thread per connection, with the injected latency
slept per request. It answers two shapes itself, the ones a first run of the jobs collector
sends:

    GET  /netbackup/admin/jobs?filter=endTime ge A and endTime lt B&sort=endTime
         &page[limit]=N[&page[after]=C]
    POST /netbackup/admin/jobs-count-requests with the same filter

and hands anything else (ping, storage units, any other collector) to the simulator running
in this process, as it is. It prints what the simulator prints (url, api_key, ca_file) and
its pid, whose CPU time the benchmark reads from /proc.

    python bench/fast_server.py --jobs 100000 --hours 23 --finished --latency-ms 0
"""

from __future__ import annotations

import argparse
import bisect
import email.utils
import gc
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime

from nbu_push.simulator import Simulator
from nbu_push.simulator.server import self_signed_certificate

RANGE = re.compile(r"endTime ge (\S+) and endTime lt (\S+)")
VERSION = "14.0"
JSON_TYPE = f"application/vnd.netbackup+json;version={VERSION}"


def ms_of(stamp: str) -> int:
    return round(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


class Jobs:
    """The finished jobs in (endTime, jobId) order, each record's JSON encoded once."""

    def __init__(self, sim: Simulator) -> None:
        ended = sorted((job for job in sim.dataset.jobs if job.end_ms is not None),
                       key=lambda job: (job.end_ms, job.job_id))
        self.ends = [job.end_ms for job in ended]
        self.records = [job.rendered for job in ended]
        self.ids = [str(job.job_id) for job in ended]
        self.position = {job_id: n for n, job_id in enumerate(self.ids)}
        self.base = sim.url + "/admin/jobs"

    def bounds(self, text: str) -> tuple[int, int] | None:
        match = RANGE.fullmatch(text)
        if match is None:
            return None
        low, high = (ms_of(value) for value in match.groups())
        return bisect.bisect_left(self.ends, low), bisect.bisect_left(self.ends, high)

    def page(self, start: int, end: int, limit: int) -> bytes:
        stop = min(end, start + limit)
        pagination = f'{{"limit":{limit}'
        links = f'{{"self":{{"href":"{self.base}"}}'
        if start < stop < end:
            cursor = self.ids[stop - 1]
            pagination += f',"next":"{cursor}"'
            links += f',"next":{{"href":"{self.base}?page[after]={cursor}"}}'
        return b"".join((b'{"links":', links.encode(), b'},"data":[',
                         b",".join(self.records[start:stop]), b'],"meta":{"pagination":',
                         pagination.encode(), b"}}}"))


class Server:
    def __init__(self, sim: Simulator, latency_s: float, certificate: tuple[str, str]) -> None:
        self.sim, self.latency_s, self.jobs = sim, latency_s, Jobs(sim)
        self.api_key = sim.api_key
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(*certificate)
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.listener.getsockname()[1]
        self.forward = threading.local()  # one connection to the simulator per thread

    def serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.connection, args=(connection,), daemon=True).start()

    def connection(self, raw: socket.socket) -> None:
        try:
            with self.tls.wrap_socket(raw, server_side=True) as conn:
                reader = conn.makefile("rb")
                while line := reader.readline():
                    method, target, _ = line.decode("latin-1").split(" ", 2)
                    headers: dict[str, str] = {}
                    while (field := reader.readline()) not in (b"\r\n", b"\n", b""):
                        name, _, value = field.decode("latin-1").partition(":")
                        headers[name.strip().lower()] = value.strip()
                    body = reader.read(int(headers.get("content-length", 0)))
                    if self.latency_s:
                        time.sleep(self.latency_s)
                    status, response_headers, payload = self.answer(method, target, headers,
                                                                    body)
                    head = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}",
                            f"Content-Length: {len(payload)}",
                            f"Date: {email.utils.formatdate(usegmt=True)}"]
                    head += [f"{name}: {value}" for name, value in response_headers.items()]
                    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        except (OSError, ValueError):
            pass  # the client went away

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition("?")
        if (headers.get("authorization") == self.api_key
                and headers.get("accept") == JSON_TYPE):
            if method == "GET" and path == "/netbackup/admin/jobs":
                found = self.jobs_page(query)
                if found is not None:
                    return 200, {"Content-Type": JSON_TYPE}, found
            if method == "POST" and path == "/netbackup/admin/jobs-count-requests":
                found = self.count(body)
                if found is not None:
                    return 200, {"Content-Type": JSON_TYPE}, found
        return self.forwarded(method, target, headers, body)

    def jobs_page(self, query: str) -> bytes | None:
        params = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in
                  (item.partition("=") for item in query.split("&") if item)}
        bounds = self.jobs.bounds(params.get("filter", ""))
        if bounds is None or params.get("sort") != "endTime":
            return None
        start, end = bounds
        if "page[after]" in params:
            start = max(start, self.jobs.position[params["page[after]"]] + 1)
        return self.jobs.page(start, end, int(params.get("page[limit]", "10")))

    def count(self, body: bytes) -> bytes | None:
        text = json.loads(body)["data"]["attributes"].get("filter", "")
        bounds = self.jobs.bounds(text)
        if bounds is None:
            return None
        return json.dumps({"data": {"type": "jobCount", "id": "1", "attributes": {
            "count": bounds[1] - bounds[0], "filter": text}}}).encode()

    def forwarded(self, method: str, target: str, headers: dict[str, str], body: bytes
                  ) -> tuple[int, dict[str, str], bytes]:
        if getattr(self.forward, "connection", None) is None:
            self.forward.connection = http.client.HTTPConnection("127.0.0.1", self.sim.port)
        upstream = self.forward.connection
        upstream.request(method, target, body or None, {
            name: value for name, value in headers.items()
            if name in ("accept", "authorization", "content-type")})
        answer = upstream.getresponse()
        payload = answer.read()
        kept = {name: value for name, value in answer.getheaders()
                if name.lower() in ("content-type", "x-netbackup-api-version")}
        return answer.status, kept, payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--hours", type=float, default=23)
    parser.add_argument("--burst", type=float, default=0.0)
    parser.add_argument("--finished", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    sim = Simulator(jobs=args.jobs, units=args.units, hours=args.hours, burst=args.burst,
                    finished=args.finished, record=False)
    # stopped with SIGTERM (bench.py, the tests): end through `finally`, which cleans up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    folder = tempfile.mkdtemp(prefix="nbu-fast-")
    sim.start()
    try:
        certificate = self_signed_certificate(folder)
        server = Server(sim, args.latency_ms / 1000, certificate)
        gc.freeze()  # the records live as long as the process
        print(json.dumps({"url": f"https://127.0.0.1:{server.port}/netbackup",
                          "api_key": server.api_key, "ca_file": certificate[0],
                          "pid": os.getpid()}), flush=True)
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
