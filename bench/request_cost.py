"""Client CPU per request: nbu-push's NetBackupClient beside a plain `Session.request`.

Against a running simulator (its JSON line on stdin or in a file), one thread sends the same
one-job GET again and again; CPU time (`time.process_time`) per request, the best of
`--rounds` interleaved rounds. The server's work is not in it (its own process).

    .venv/bin/python -m nbu_push.simulator --tls --jobs 1000 > /tmp/sim.json &
    .venv/bin/python bench/request_cost.py /tmp/sim.json
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.parse

import requests

from nbu_push.netbackup.client import NetBackupClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("simulator", help="the simulator's JSON line (a file)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with open(args.simulator) as handle:
        info = json.load(handle)
    query = urllib.parse.urlencode({"filter": "endTime ge 2026-01-01T00:00:00.000Z",
                                    "sort": "endTime", "page[limit]": 1},
                                   quote_via=urllib.parse.quote)
    nbu = NetBackupClient(info["url"], verify=info["ca_file"])
    nbu.set_credential(info["api_key"])
    nbu.api_version = "14.0"
    session = requests.Session()
    headers = {"Accept": "application/vnd.netbackup+json;version=14.0",
               "Authorization": info["api_key"]}
    url = f"{info['url']}/admin/jobs?{query}"

    def nbu_push() -> None:
        nbu.request("GET", "/admin/jobs", query=query)

    def plain() -> None:  # what bench/bare.py does per page
        response = session.get(url, headers=headers, verify=info["ca_file"], stream=True)
        response.raw.read(decode_content=True)
        response.close()

    ways = {"nbu-push NetBackupClient.request": nbu_push, "requests Session.get": plain}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(args.rounds + 1):  # the first round opens the connections
        for name, send in ways.items():
            started = time.process_time()
            for _ in range(args.requests):
                send()
            best[name] = min(best[name], (time.process_time() - started) / args.requests)
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1e6:.0f} us |")


if __name__ == "__main__":
    main()
