"""Size on disk and time to save and load a run state, for a large primary.

The state holds the jobs collector's ledger (a row per label set and minute for the last
hour, and per label set and hour before that, over the longest window: what a run with
NBU_JOB_WINDOW=1h,<window> keeps) and the clients collector's book (one fact per client and
policy). Both are built at the given sizes as a run keeps them (minutes made, then pruned
into hours), saved with state.save and read back with state.load and the collectors' own
validation, as a run does. The peak RSS is this benchmark process's, not a run's.

    .venv/bin/python bench/state_size.py --clients 20000 --label-sets 700 --window 24h
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from nbu_push.collect._jobs.cells import Cells
from nbu_push.collect._jobs.ledger import JobLedger, minute_detail_ms
from nbu_push.collect.base import CollectContext
from nbu_push.collect.clients import ClientBook, Fact
from nbu_push.config import parse_duration
from nbu_push.state import RunState, load, save

NOW_MS = 1_796_000_000_000 // 60_000 * 60_000  # a minute edge, as bucket keys are


def build(clients: int, label_sets: int, window_s: float, now_ms: int = NOW_MS
          ) -> tuple[JobLedger, ClientBook]:
    ledger = JobLedger(now_ms, now_ms - 86_400_000)
    keys = [("BACKUP", f"POLICY_TYPE_{n % 20}", str(n // 20)) for n in range(label_sets)]
    for minute in range(int(window_s // 60)):
        cells = ledger.buckets[now_ms - minute * 60_000] = Cells()
        for key in keys:
            cells.add(key, [40, 40 * 2**30, 10 * 2**30, 4000])
    ledger.counters = {key: [10**6, 10**15, 10**14, 10**9] for key in keys}
    ledger.prune(window_s * 1000, minute_detail_ms([3600, window_s]))  # as a run with
    # NBU_JOB_WINDOW=1h,<window> leaves it: an hour of minutes, then hours
    book = ClientBook()
    for n in range(clients):
        failures = [now_ms - k * 3_600_000 for k in range(n % 4)]
        book.facts[(f"client{n:05d}.example.com", f"policy-{n % 50}", "STANDARD")] = Fact(
            now_ms - 86_400_000, now_ms - 3_600_000, "0" if not failures else "13", failures)
    return ledger, book


def state_of(ledger: JobLedger, book: ClientBook) -> RunState:
    """The state as a run hands it over: its tables are iterators, written once."""
    return RunState("bench", "https://nbu:1556/netbackup",
                    {"jobs": ledger.to_json(), "clients": book.to_json()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--label-sets", type=int, default=200)
    parser.add_argument("--window", default="24h")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ledger, book = build(args.clients, args.label_sets,
                         parse_duration(args.window, "--window"))
    path = os.path.join(tempfile.mkdtemp(), "state.json")
    saves, loads = [], []
    for _ in range(args.repeat):
        state = state_of(ledger, book)
        began = time.perf_counter()
        save(path, state)
        saves.append(time.perf_counter() - began)
        began = time.perf_counter()
        loaded, warning = load(path, "bench", "https://nbu:1556/netbackup")
        assert warning is None
        # as the collectors read them: each table's rows decoded one at a time
        loaded_ledger = JobLedger.from_json(CollectContext(
            0, saved=loaded.collectors["jobs"]).state_with_tables(("buckets", "hours")))
        loaded_book = ClientBook.from_json(CollectContext(
            0, saved=loaded.collectors["clients"]).state_with_tables(("facts",)))
        loads.append(time.perf_counter() - began)
        assert len(loaded_ledger.buckets) == len(ledger.buckets)  # every row written
        assert len(loaded_ledger.hours) == len(ledger.hours)
        assert len(loaded_book.facts) == len(book.facts)
    rows = sum(len(cells.keys) for cells in [*ledger.buckets.values(), *ledger.hours.values()])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {args.clients:,} clients, {args.label_sets} label sets, {args.window} window"
          f" ({rows:,} bucket rows) | {os.path.getsize(path) / 2**20:.1f} MiB"
          f" | {min(saves) * 1000:.0f} ms | {min(loads) * 1000:.0f} ms"
          f" | {min(s + lo for s, lo in zip(saves, loads, strict=True)) * 1000:.0f} ms"
          f" | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
