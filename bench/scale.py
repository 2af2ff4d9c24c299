"""Every measurement of docs/performance.md's "At scale" section, in one invocation.

In order: the run state of a large primary (size, save and load), an incremental run that
loads it (peak RSS), requests per hour of monitoring at 10,000 and 100,000 jobs an hour,
jobs and storage beside the bare client against the fast server (0 ms, and 20 ms with
NBU_CONCURRENCY=8), and the default run (every collector) collector by collector. Each step
is one of the benchmarks in bench/, run as a process; their tables are printed as they come.

    .venv/bin/python bench/scale.py            # about 8 minutes on the project's machine
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys

STEPS: tuple[tuple[str, list[str]], ...] = (
    ("The run state of a large primary: size, save and load (best of 5)",
     ["state_size.py", "--clients", "20000", "--label-sets", "700", "--window", "24h"]),
    ("An incremental run that loads it (every collector, a textfile, the state saved again)",
     ["state_run.py", "--clients", "20000", "--label-sets", "700", "--window", "24h",
      "--repeat", "3"]),
    ("Requests per hour of monitoring, 10,000 jobs an hour, every 5 minutes",
     ["incremental.py", "--rate", "10000", "--window", "1h", "--state-only"]),
    ("Requests per hour of monitoring, 100,000 jobs an hour, every 5 minutes",
     ["incremental.py", "--rate", "100000", "--window", "1h", "--state-only"]),
    ("Jobs and storage beside the bare client, against the fast server",
     ["bench.py", "--server", "fast", "--finished", "--hours", "23", "--collectors",
      "jobs,storage", "--cases", "100000@0x21,100000@20x15"]),
    ("The default run (every collector) against the simulator, collector by collector",
     ["bench.py", "--jobs", "100000", "--latency", "0,20", "--repeat", "3",
      "--per-collector"]),
)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC,"
          f" {platform.machine()}, {os.cpu_count()} cores, Python"
          f" {platform.python_version()}", flush=True)
    for title, command in STEPS:
        print(f"\n## {title}\n\n    bench/{' '.join(command)}\n", flush=True)
        done = subprocess.run([sys.executable, os.path.join(here, command[0]), *command[1:]],
                              check=False)
        if done.returncode != 0:
            sys.exit(f"bench/{command[0]} failed ({done.returncode})")


if __name__ == "__main__":
    main()
