"""The bare baseline: the smallest correct reader of the same jobs, for side-by-side timing.

One requests.Session, NBU_CONCURRENCY threads over the same slices of the same interval
nbu-push reads on a first run ([now - 24h, now - 2m) on the primary's clock): equal job
counts, planned by the same pure function (nbu_push.netbackup.slicing, which imports nothing
but the standard library) from the same count requests. Each body is read with one raw read
and decoded with the same field-selective msgspec struct (nbu-push's JobRecord: the 12
fields it needs for counts, bytes, files and client protection); totals by (jobType,
policyType, status) only. No retries, no metrics, no state, no other collector.

    python bench/bare.py URL API_KEY CA_FILE [CONCURRENCY]     # prints jobs and seconds
"""

from __future__ import annotations

import email.utils
import sys
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import msgspec
import requests

from nbu_push.netbackup.jobs import JobRecord
from nbu_push.netbackup.slicing import plan


class Page(msgspec.Struct):
    data: list[JobRecord] = []
    meta: Any = None


DECODE = msgspec.json.Decoder(Page).decode


def stamp(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main() -> None:
    url, key, ca = sys.argv[1:4]
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    started = time.perf_counter()
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency + 2))
    headers = {"Accept": "application/vnd.netbackup+json;version=14.0", "Authorization": key}
    ping = session.get(url + "/ping", verify=ca)
    now = email.utils.parsedate_to_datetime(ping.headers["Date"]).timestamp()
    end = int((now - 120) * 1000)
    start = end - 24 * 3600 * 1000

    def filter_of(low: int, high: int) -> str:
        return f"endTime ge {stamp(low)} and endTime lt {stamp(high)}"

    def count(bounds: tuple[int, int]) -> int:
        body = {"data": {"type": "jobCount", "attributes": {"filter": filter_of(*bounds)}}}
        answer = session.post(url + "/admin/jobs-count-requests", json=body, verify=ca,
                              headers={**headers, "Content-Type": headers["Accept"]})
        return int(answer.json()["data"]["attributes"]["count"])

    with ThreadPoolExecutor(concurrency) as pool:
        slices = plan(start, end, concurrency, lambda ranges: list(pool.map(count, ranges)))

    def read(bounds: tuple[int, int]) -> Counter:
        totals: Counter = Counter()
        query = {"filter": filter_of(*bounds), "sort": "endTime", "page[limit]": "100"}
        while True:
            encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
            response = session.get(f"{url}/admin/jobs?{encoded}", headers=headers, verify=ca,
                                   stream=True)
            page = DECODE(response.raw.read(decode_content=True))
            response.close()
            for record in page.data:
                a = record.attributes
                if a is not None:
                    totals[(a.jobType, a.policyType, a.status)] += 1
            cursor = (page.meta or {}).get("pagination", {}).get("next")
            if not page.data or not cursor:
                return totals
            query["page[after]"] = cursor

    with ThreadPoolExecutor(len(slices)) as pool:
        totals = sum(pool.map(read, slices), Counter())
    print(f"{sum(totals.values())} {time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    main()
