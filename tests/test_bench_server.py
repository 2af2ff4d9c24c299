"""The benchmark's fast server serves what the simulator serves: the same jobs, read whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from nbu_push.simulator import Simulator

from .cli import clean_env, nbu_push
from .truth import series

FAST_SERVER = os.path.join(os.path.dirname(__file__), "..", "bench", "fast_server.py")
SHAPE = {"jobs": 3_000, "units": 40, "hours": 23.0}


def jobs_read(url: str, api_key: str, ca_file: str) -> dict[str, dict[tuple, float]]:
    result = nbu_push("--dry-run", env=clean_env(
        NBU_URL=url, NBU_API_KEY=api_key, NBU_CA_BUNDLE=ca_file, NBU_SITE="bench",
        NBU_STATE_FILE="off", NBU_COLLECTORS="jobs,storage", NBU_CONCURRENCY="4",
        NBU_JOB_WINDOW="24h"))  # every job served ended in it
    assert result.code == 0, result.stderr
    return series(result.stdout)


def test_the_fast_server_serves_the_simulators_jobs_in_pages_and_counts():
    server = subprocess.Popen(
        [sys.executable, FAST_SERVER, "--jobs", str(SHAPE["jobs"]), "--units",
         str(SHAPE["units"]), "--hours", str(SHAPE["hours"]), "--finished"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        fast = jobs_read(info["url"], info["api_key"], info["ca_file"])
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert not os.path.exists(info["ca_file"])  # SIGTERM cleans up its certificate
    with Simulator(tls=True, finished=True, record=False, **SHAPE) as sim:
        simulated = jobs_read(sim.url, sim.api_key, sim.ca_file)
    for name in ("nbu_jobs_finished", "nbu_jobs_transferred_bytes", "nbu_storage_unit_used_bytes"):
        assert fast[name] == simulated[name] and fast[name], name
    read = fast["nbu_push_records_read"][(("collector", "jobs"),)]
    assert read == SHAPE["jobs"]  # every job, one page after another
    requests = fast["nbu_push_api_requests"][(("collector", "jobs"),)]
    assert requests >= SHAPE["jobs"] / 100  # pages of 100, beside the counts
