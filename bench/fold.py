"""Client CPU per job of folding a page: the per-minute tallies and the client facts.

Pages of 100 of the simulator's newest jobs in endTime order (its busiest minutes: 10,000
jobs over about 6 minutes), decoded once; then folded by one JobTally as a slice's reader
folds them, best of 15, in one thread. Decoding is timed the same way beside it.

    .venv/bin/python bench/fold.py --jobs 100000 --pages 100
"""

from __future__ import annotations

import argparse
import time

from nbu_push.collect._jobs.tally import JobTally
from nbu_push.netbackup.jobs import decode_jobs_page
from nbu_push.simulator.data import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    ended = sorted((job for job in generate(args.jobs, finished=True, hours=23).jobs
                    if job.end_ms is not None), key=lambda job: (job.end_ms, job.job_id))
    newest = ended[-100 * args.pages:]
    bodies = [b'{"data":[' + b",".join(job.rendered for job in newest[at:at + 100]) + b"]}"
              for at in range(0, len(newest), 100)]
    pages = [decode_jobs_page(body, "bench").records for body in bodies]
    count = sum(map(len, pages))
    minute_span = (newest[-1].end_ms - newest[0].end_ms) / 60_000

    def decode() -> None:
        for body in bodies:
            decode_jobs_page(body, "bench")

    def fold() -> None:
        tally = JobTally(keep_ms=3_600_000)
        for records in pages:
            tally.add_records(records)

    print(f"{count:,} jobs over {minute_span:.0f} minutes")
    for name, work in (("decode", decode), ("fold", fold)):
        best = min(timed(work) for _ in range(15))
        print(f"{name}: {best / count * 1e6:.2f} us per job")


def timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


if __name__ == "__main__":
    main()
