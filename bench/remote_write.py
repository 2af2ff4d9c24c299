"""What remote write costs a large run: parsing the exposition and encoding the requests.

The exposition of 17,400 client series (the per-client families of a primary with 3,400
client policies, the largest family nbu-push publishes), best of three:

    .venv/bin/python bench/remote_write.py
"""

from __future__ import annotations

import time

from nbu_push.publish.write_request import series_of, write_requests

SERIES = 17_400


def exposition() -> bytes:
    name = "nbu_client_last_success_timestamp_seconds"
    lines = [f"# HELP {name} Last usable backup.\n# TYPE {name} gauge\n"]
    lines += [f'{name}{{client="client{n:05d}.example.com",policy_name="standard-{n % 3}",'
              f'policy_type="STANDARD",site="nbu-primary"}} 1.7965e+09\n' for n in range(SERIES)]
    return "".join(lines).encode()


def main() -> None:
    text = exposition()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        samples = series_of(text)
        parsed = time.perf_counter()
        bodies = list(write_requests(samples.items(), 1_796_000_000_000))
        runs.append((parsed - started, time.perf_counter() - parsed, bodies))
    parse, encode, bodies = min(runs, key=lambda run: run[0] + run[1])
    print(f"{len(text) / 2**20:.2f} MiB of text, {len(samples):,} series: parse {parse:.3f} s,"
          f" encode and compress {encode:.3f} s; {len(bodies)} requests,"
          f" {sum(map(len, bodies)) / 2**20:.2f} MiB sent")


if __name__ == "__main__":
    main()
