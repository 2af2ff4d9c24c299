"""`nbu-simulator`: serve simulated NetBackup data until interrupted."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading

from .data import OLDER_JOBS_FROM_MS
from .server import Faults, Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbu-simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--units", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--burst", type=float, default=0.0,
                        help="fraction of recent jobs ending in one 6-minute burst")
    parser.add_argument("--hours", type=float, default=5,
                        help="jobs end within this many hours (80 %% in the last 50 minutes)")
    parser.add_argument("--finished", action="store_true",
                        help="every job finished within --hours: none running, no older job"
                        " (all of them in a first run's window)")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a self-signed cert")
    parser.add_argument("--gzip", action="store_true", help="gzip responses when accepted")
    parser.add_argument("--versions", default="14.0,13.0,12.0")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--faults", default="", help="e.g. latency_ms=20,burst_503=2")
    args = parser.parse_args(argv)
    try:
        faults = Faults.parse(args.faults)
    except ValueError as exc:
        parser.error(str(exc))
    if args.hours * 3600_000 < OLDER_JOBS_FROM_MS:
        parser.error("--hours must cover at least 70 minutes: the older fifth of the jobs ends"
                     " between 70 minutes and --hours before now")
    simulator = Simulator(jobs=args.jobs, units=args.units, seed=args.seed, tls=args.tls,
                          versions=tuple(args.versions.split(",")), api_key=args.api_key,
                          faults=faults, port=args.port, burst=args.burst, compress=args.gzip,
                          finished=args.finished, hours=args.hours,
                          record=False)  # nobody reads the record here
    gc.freeze()  # the dataset lives as long as the process: spare the collector scanning it
    simulator.start()
    print(json.dumps({"url": simulator.url, "api_key": simulator.api_key,
                      "username": simulator.username, "password": simulator.password,
                      "ca_file": simulator.ca_file}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
