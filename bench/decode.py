"""Decode one 100-job page (about 220 KB) with each candidate and fold it into the totals.

    .venv/bin/pip install orjson   # the only candidate nbu-push does not depend on
    .venv/bin/python bench/decode.py

The page comes from the simulator, so records carry all 77 vendor attributes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from nbu_push.collect.jobs import JobsSummary
from nbu_push.netbackup.jobs import decode_jobs_page
from nbu_push.simulator import generate


def page_bytes() -> bytes:
    dataset = generate(jobs=100, seed=1)
    return (b'{"data":[' + b",".join(job.rendered for job in dataset.jobs)
            + b'],"meta":{"pagination":{"limit":100,"next":"100200"}}}')


def per_page(function: Callable[[], object], rounds: int = 300) -> float:
    function()
    started = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    body = page_bytes()
    print(f"page: {len(body):,} bytes, 100 jobs")
    print("| decoder | ms per page | pages per second |")
    print("|---|---:|---:|")
    rows: list[tuple[str, Callable[[], object]]] = [
        ("json (stdlib), every field", lambda: json.loads(body))]
    try:
        import orjson

        rows.append(("orjson, every field", lambda: orjson.loads(body)))
    except ImportError:
        print("(orjson not installed: skipped)")
    rows.append(("msgspec, only the 7 fields nbu-push reads",
                 lambda: decode_jobs_page(body, "bench")))
    rows.append(("msgspec decode + aggregation (what nbu-push does per page)",
                 lambda: JobsSummary(3600).add_records(decode_jobs_page(body, "b").records)))
    for name, function in rows:
        milliseconds = per_page(function)
        print(f"| {name} | {milliseconds:.3f} | {1000 / milliseconds:,.0f} |")


if __name__ == "__main__":
    main()
