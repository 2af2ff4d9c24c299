"""Requests and bytes per hour of monitoring: re-reading the window against the run state.

A simulator (in this process) holds jobs ending evenly in time at `--rate` jobs per hour.
nbu-push runs every `--interval` of the primary's clock for one hour (the clock is moved,
nobody waits): once re-reading the whole window every run (NBU_STATE_FILE=off, the first
round's behaviour), once with the run state. The jobs collector's requests and response
bytes over the hour are compared with the one-fetch-per-job minimum.

    .venv/bin/python bench/incremental.py --rate 10000 --window 1h
    .venv/bin/python bench/incremental.py --rate 10000 --window 24h
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.config import parse_duration
from nbu_push.simulator import Simulator
from nbu_push.simulator.data import Dataset, finished_job


def dataset(rate: float, start_ms: int, end_ms: int) -> Dataset:
    rng = random.Random(1)
    count = int(rate * (end_ms - start_ms) / 3_600_000)
    step = (end_ms - start_ms) / count
    jobs = [finished_job(100_000 + n, int(start_ms + n * step), rng,
                         "https://nbu.example.com:1556/netbackup",
                         status=rng.choice([0, 0, 0, 0, 1, 96]),
                         policy_type=rng.choice(["STANDARD", "VMWARE", "WINDOWS_NT"]))
            for n in range(count)]
    return Dataset(start_ms, jobs, [])


def run_once(env: dict[str, str], textfile: str) -> tuple[int, int]:
    """One run; (requests, received bytes) of its jobs collector."""
    subprocess.run([sys.executable, "-m", "nbu_push", "--textfile", textfile], env=env,
                   check=True, capture_output=True, timeout=600)
    with open(textfile) as handle:
        values = {s.name: int(s.value) for f in text_string_to_metric_families(handle.read())
                  for s in f.samples if s.labels.get("collector") == "jobs"}
    return values["nbu_push_api_requests"], values["nbu_push_api_received_bytes"]


def hour(sim: Simulator, env: dict[str, str], interval_s: float, stateful: bool
         ) -> tuple[int, int]:
    """The runs of one hour of the primary's clock, after a first run that is not counted."""
    folder = tempfile.mkdtemp(prefix="nbu-bench-")
    textfile = os.path.join(folder, "nbu_push.prom")
    env = {**env, "NBU_STATE_FILE": os.path.join(folder, "s.json") if stateful else "off"}
    offset = sim.clock_offset
    run_once(env, textfile)
    requests = received = 0
    for _ in range(round(3600 / interval_s)):
        sim.clock_offset += interval_s
        sent, got = run_once(env, textfile)
        requests += sent
        received += got
    sim.clock_offset = offset
    return requests, received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000, help="jobs ending per hour")
    parser.add_argument("--window", default="1h")
    parser.add_argument("--interval", default="5m")
    parser.add_argument("--state-only", action="store_true",
                        help="only the run state, not re-reading the window every run")
    args = parser.parse_args()
    window = parse_duration(args.window, "--window")
    interval = parse_duration(args.interval, "--interval")
    with Simulator(jobs=0) as sim:
        now = sim.now_ms()
        sim.dataset = dataset(args.rate, now - int(window * 1000) - 3_600_000,
                              now + 3_700_000)
        sim.refresh_index()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBU_", "PUSHGATEWAY"))}
        env.update(NBU_URL=sim.url, NBU_API_KEY=sim.api_key, NBU_SITE="bench",
                   NBU_JOB_WINDOW=args.window, NBU_JOB_BACKFILL=args.window,
                   NBU_COLLECTORS="jobs", NBU_LOCK_FILE="off", NBU_DEADLINE="10m")
        per_job = len(sim.dataset.jobs[0].rendered) + 1
        minimum_requests = math.ceil(args.rate / 100)
        minimum_bytes = int(args.rate * per_job)
        print(f"rate {args.rate:,.0f} jobs/hour, window {args.window}, interval"
              f" {args.interval}, {len(sim.dataset.jobs):,} jobs served, ~{per_job} bytes each")
        print("| reading | requests per hour | received MiB per hour | ratio to minimum |")
        print("|---|---:|---:|---:|")
        print(f"| one fetch per job (minimum) | {minimum_requests:,} |"
              f" {minimum_bytes / 2**20:,.1f} | 1.00 |")
        readings = (("re-read the window every run", False), ("run state (each job once)", True))
        for name, stateful in readings[1:] if args.state_only else readings:
            requests, received = hour(sim, env, interval, stateful)
            print(f"| {name} | {requests:,} | {received / 2**20:,.1f} |"
                  f" {requests / minimum_requests:.2f} |", flush=True)


if __name__ == "__main__":
    main()
