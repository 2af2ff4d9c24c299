"""Peak RSS of an incremental run that loads a large run state.

The state of bench/state_size.py (20,000 clients, 700 label sets, NBU_JOB_WINDOW=1h,24h by
default) is written for a simulator started here, its watermark five minutes behind the
primary's clock; then `nbu-push` runs against it once (every collector, a textfile, the
state saved again) under GNU time, which reports its peak RSS.

    .venv/bin/python bench/state_run.py --clients 20000 --label-sets 700 --window 24h
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from state_size import build  # bench/ is the script's folder

from nbu_push.config import parse_duration
from nbu_push.simulator import Simulator
from nbu_push.state import RunState, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--label-sets", type=int, default=700)
    parser.add_argument("--window", default="24h")
    parser.add_argument("--collectors", default="", help="NBU_COLLECTORS (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each from the same"
                        " state; the highest peak is shown")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="nbu-bench-")
    state_file = os.path.join(folder, "state.json")
    with Simulator(jobs=5000, record=False) as sim:
        now_ms = (sim.now_ms() - 5 * 60_000) // 60_000 * 60_000
        ledger, book = build(args.clients, args.label_sets,
                             parse_duration(args.window, "--window"), now_ms)
        save(state_file, RunState("bench", sim.url, {"jobs": ledger.to_json(),
                                                      "clients": book.to_json()}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBU_", "PUSHGATEWAY"))}
        env.update(NBU_URL=sim.url, NBU_API_KEY=sim.api_key, NBU_SITE="bench",
                   NBU_STATE_FILE=state_file, NBU_JOB_WINDOW=f"1h,{args.window}",
                   NBU_LOCK_FILE="off", NBU_PUSH_TEXTFILE=os.path.join(folder, "out.prom"))
        if args.collectors:
            env["NBU_COLLECTORS"] = args.collectors
        size = os.path.getsize(state_file) / 2**20
        with open(state_file, "rb") as handle:
            saved = handle.read()
        runs = []
        for _ in range(args.repeat):
            with open(state_file, "wb") as handle:  # each run starts from the same state
                handle.write(saved)
            runs.append(peak_rss_and_seconds(env, os.path.join(folder, "rss")))
    kib, seconds = max(runs)
    print(f"| {args.clients:,} clients, {args.label_sets} label sets, 1h,{args.window}"
          f" | {size:.1f} MiB state | incremental run {seconds:.2f} s"
          f" | peak RSS {kib / 1024:.1f} MiB (highest of {len(runs)}) |")


def peak_rss_and_seconds(env: dict[str, str], rss: str) -> tuple[int, float]:
    """One nbu-push run under GNU time: its peak RSS (KiB) and wall seconds."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M %e", "-o", rss, sys.executable, "-m",
                           "nbu_push"], env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"nbu-push failed ({done.returncode}): {done.stderr[-2000:]}")
    with open(rss, encoding="utf-8") as handle:
        kib, seconds = handle.read().split()[-2:]
    return int(kib), float(seconds)


if __name__ == "__main__":
    main()
