"""Benchmark one full `nbu-push --dry-run` beside the bare client, against the simulator.

The simulator runs in its own process over HTTPS (so it does not share nbu-push's
interpreter lock), with injected per-request latency. Each case runs nbu-push and
bench/bare.py alternately on the same server and prints both wall times and their ratio,
CPU time, peak RSS (from GNU time), API requests and bytes received, as a Markdown table
(docs/performance.md). Every repeat is a first run: it reads the whole 24 h backfill. By
default nbu-push runs with --dry-run and NBU_STATE_FILE=off; with --save-state it runs as a
deployed first run does, writing a textfile and a new run state (both removed after).

    .venv/bin/python bench/bench.py --finished              # 1k, 10k, 100k at 0 and 20 ms
    .venv/bin/python bench/bench.py --finished --hours 23 --cases 100000@0x7,1000000@0x1
    .venv/bin/python bench/bench.py --jobs 100000 --latency 0 --collectors jobs,storage
    .venv/bin/python bench/bench.py --jobs 100000 --per-collector     # requests and seconds
    .venv/bin/python bench/bench.py --finished --hours 23 --cases 1000@0x3 --save-state
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

import nbu_push


@dataclass
class Measurement:
    wall: float
    cpu: float
    max_rss_mib: float
    requests: int
    received_mib: float
    jobs: int
    code: int
    per_collector: dict[str, tuple[int, float, float]]  # collector -> (requests, wall s,
    # CPU s)
    server_cpu: float = 0.0  # the server's CPU seconds while this run read from it


def start_server(jobs: int, latency_ms: float, args: argparse.Namespace
                 ) -> tuple[subprocess.Popen, dict]:
    """The simulator, or with --server fast, bench/fast_server.py (pre-encoded jobs)."""
    shape = ["--jobs", str(jobs), "--units", "40", "--burst", str(args.burst), "--hours",
             str(args.hours), *(["--finished"] if args.finished else [])]
    if args.server == "fast":
        command = [os.path.join(os.path.dirname(__file__), "fast_server.py"),
                   "--latency-ms", str(latency_ms)]
    else:
        command = ["-m", "nbu_push.simulator", "--tls", "--faults", f"latency_ms={latency_ms}"]
    proc = subprocess.Popen([sys.executable, *command, *shape], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    info.setdefault("pid", proc.pid)
    return proc, info


def cpu_seconds(pid: int) -> float:
    """A running process's user and system CPU time so far (the server's, from /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    wall: float
    cpu: float
    max_rss_mib: float
    code: int


def timed(command: list[str], env: dict[str, str] | None, stdout, stderr=None) -> Process:
    """Run a command, timed from spawn to exit. Its peak RSS comes from GNU time, not from
    this process's wait4: a child's ru_maxrss starts at its parent's high-water mark (the
    pages it shared before exec), and this benchmark's own RSS grows as it parses outputs."""
    with tempfile.NamedTemporaryFile("r") as rss:
        started = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command],
                                env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        kib = int(rss.read().split()[-1])
    return Process(wall, usage.ru_utime + usage.ru_stime, kib / 1024,
                   os.waitstatus_to_exitcode(status))


def run_bare(info: dict, concurrency: str) -> Measurement:
    """bench/bare.py as a process, timed like nbu-push (spawn to exit)."""
    with tempfile.TemporaryFile() as out:
        done = timed([sys.executable, os.path.join(os.path.dirname(__file__), "bare.py"),
                      info["url"], info["api_key"], info["ca_file"], concurrency or "4"],
                     None, out)
        out.seek(0)
        jobs = int(out.read().split()[0])
    return Measurement(done.wall, done.cpu, done.max_rss_mib, 0, 0.0, jobs, done.code, {})


def run_once(info: dict, env_extra: dict[str, str], save_state: bool) -> Measurement:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBU_", "PUSHGATEWAY_"))}
    # every repeat is a first run: it reads NBU_JOB_BACKFILL (24 h), all the jobs served
    env.update(NBU_URL=info["url"], NBU_API_KEY=info["api_key"], NBU_CA_BUNDLE=info["ca_file"],
               NBU_SITE="bench", NBU_STATE_FILE="off", **env_extra)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as files:
        command = [sys.executable, "-m", "nbu_push", "--dry-run"]
        if save_state:  # no state yet: a first run, which writes one
            textfile = os.path.join(files, "nbu.prom")
            env.update(NBU_STATE_FILE=os.path.join(files, "state.json"),
                       NBU_PUSH_TEXTFILE=textfile)
            command.pop()
        done = timed(command, env, out, err)
        if done.code != 0:
            err.seek(0)
            sys.exit(f"nbu-push failed ({done.code}): {err.read().decode()[-2000:]}")
        out.seek(0)
        if save_state:
            assert os.path.exists(env["NBU_STATE_FILE"])
            with open(textfile, encoding="utf-8") as written:
                text = written.read()
        else:
            text = out.read().decode()
    values: dict[str, float] = {}
    requests: dict[str, int] = {}
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            collector = sample.labels.get("collector", "")
            if sample.name == "nbu_push_api_requests":
                requests[collector] = int(sample.value)
            if sample.name == "nbu_push_collector_duration_seconds":
                seconds[collector] = sample.value
            if sample.name == "nbu_push_collector_cpu_seconds":
                cpu[collector] = sample.value
            if sample.name in ("nbu_push_api_requests", "nbu_push_api_received_bytes") or (
                    sample.name == "nbu_push_records_read" and collector == "jobs"):
                values[sample.name] = values.get(sample.name, 0) + sample.value
    return Measurement(done.wall, done.cpu, done.max_rss_mib,
                       int(values["nbu_push_api_requests"]),
                       values["nbu_push_api_received_bytes"] / 2**20,
                       int(values.get("nbu_push_records_read", 0)), done.code,
                       {name: (requests[name], seconds[name], cpu[name])
                        for name in sorted(requests)})


def served(info: dict, measure: Callable[[], Measurement]) -> Measurement:
    """A measurement, with the CPU time the server spent answering it."""
    before = cpu_seconds(info["pid"])
    measurement = measure()
    measurement.server_cpu = cpu_seconds(info["pid"]) - before
    return measurement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1000,10000,100000")
    parser.add_argument("--latency", default="0,20", help="milliseconds per request")
    parser.add_argument("--concurrency", default="", help="NBU_CONCURRENCY (default: the"
                        " nbu-push default at 0 ms, 8 with latency)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; best is shown")
    parser.add_argument("--cases", default="", help="instead of --jobs x --latency:"
                        " JOBS@MS[xREPEAT],... e.g. 100000@0x7,1000000@0x1,100000@20")
    parser.add_argument("--burst", type=float, default=0.0,
                        help="fraction of recent jobs ending in one 6-minute backup window")
    parser.add_argument("--hours", type=float, default=5,
                        help="jobs end within this many hours before the primary's clock")
    parser.add_argument("--finished", action="store_true",
                        help="every job served ended in the window read (none running)")
    parser.add_argument("--slicing", default="", help="NBU_JOB_SLICING: count or time")
    parser.add_argument("--collectors", default="", help="NBU_COLLECTORS (default: all)")
    parser.add_argument("--save-state", action="store_true",
                        help="nbu-push writes a textfile and a new run state, not --dry-run")
    parser.add_argument("--server", choices=("simulator", "fast"), default="simulator",
                        help="fast: bench/fast_server.py, pre-encoded jobs (jobs and storage)")
    parser.add_argument("--per-collector", action="store_true",
                        help="also print requests, wall and CPU seconds per collector (median"
                        " run)")
    args = parser.parse_args()
    # as installed: pip compiles the bytecode, and this machine sets PYTHONDONTWRITEBYTECODE
    compileall.compile_dir(os.path.dirname(nbu_push.__file__), quiet=1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python"
          f" {platform.python_version()}, {platform.platform()}; burst {args.burst:g},"
          f" jobs over {args.hours:g} h, {'every job finished, ' if args.finished else ''}"
          f" slicing {args.slicing or 'default'}, collectors {args.collectors or 'all'},"
          f" {'a textfile and a new run state' if args.save_state else '--dry-run, no state'},"
          f" server {args.server}")
    print("| jobs served | jobs read | latency | K | nbu-push wall s (best / median) | bare"
          " client wall s (best / median) | ratio (medians) | CPU s (nbu-push / bare) | peak RSS"
          " MiB (nbu-push / bare) | requests | received MiB | server CPU s (during nbu-push /"
          " bare) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    cases = [(int(jobs), float(latency), args.repeat) for latency in args.latency.split(",")
             for jobs in args.jobs.split(",")]
    if args.cases:
        cases = []
        for case in args.cases.split(","):
            jobs, _, rest = case.partition("@")
            latency, _, repeat = rest.partition("x")
            cases.append((int(jobs), float(latency), int(repeat or args.repeat)))
    for jobs, latency, repeat in cases:
        simulator, info = start_server(jobs, latency, args)
        try:
            concurrency = args.concurrency or ("8" if latency else "")
            env = {"NBU_CONCURRENCY": concurrency} if concurrency else {}
            if args.slicing:
                env["NBU_JOB_SLICING"] = args.slicing
            if args.collectors:
                env["NBU_COLLECTORS"] = args.collectors
            runs, bare = [], []
            reads_jobs = not args.collectors or "jobs" in args.collectors.split(",")
            for _ in range(repeat):  # interleaved: both see the same machine
                runs.append(served(info, functools.partial(run_once, info, env,
                                                             args.save_state)))
                if reads_jobs:  # the bare client reads jobs: nothing to compare otherwise
                    bare.append(served(info, functools.partial(run_bare, info, concurrency)))
            bare = bare or [Measurement(float("nan"), float("nan"), float("nan"), 0, 0.0, 0,
                                        0, {})]
            runs.sort(key=lambda m: m.wall)
            bare.sort(key=lambda m: m.wall)
        finally:
            simulator.terminate()
            simulator.wait()
        best, median = runs[0], runs[len(runs) // 2]
        base, base_median = bare[0], bare[len(bare) // 2]
        assert base.jobs == best.jobs, (base.jobs, best.jobs)  # the same jobs were read
        print(f"| {jobs:,} | {best.jobs:,} | {latency:g} ms | {concurrency or 'default'} |"
              f" {best.wall:.2f} / {median.wall:.2f} | {base.wall:.2f} /"
              f" {base_median.wall:.2f} | {median.wall / base_median.wall:.2f} |"
              f" {best.cpu:.2f} / {base.cpu:.2f} | {max(r.max_rss_mib for r in runs):.1f} /"
              f" {max(r.max_rss_mib for r in bare):.1f} |"
              f" {best.requests} | {best.received_mib:.1f} |"
              f" {median.server_cpu:.2f} / {base_median.server_cpu:.2f} |", flush=True)
        if args.per_collector:
            print("| collector | requests | wall s | CPU s |\n|---|---:|---:|---:|")
            for name, (sent, took, spent) in median.per_collector.items():
                print(f"| `{name}` | {sent} | {took:.3f} | {spent:.3f} |")


if __name__ == "__main__":
    main()
