"""Each collector's CPU time: its own thread's and its workers', never another's."""

from __future__ import annotations

import resource
import time
from concurrent.futures import ThreadPoolExecutor

from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator import Simulator

from .cli import nbu_push, sim_env
from .truth import series


def burn(seconds: float) -> float:
    """Spend `seconds` of this thread's CPU time."""
    began = time.thread_time()
    while time.thread_time() - began < seconds:
        pass
    return seconds


def test_the_cpu_of_worker_threads_counts_for_their_collector():
    mine, other = CollectorStats(), CollectorStats()
    with ThreadPoolExecutor(3) as pool:
        spent = sum(pool.map(mine.on_cpu(burn), [0.05, 0.05, 0.05]))
        pool.submit(other.on_cpu(burn), 0.02).result()
    assert spent <= mine.cpu_seconds < spent + 0.05
    assert 0.02 <= other.cpu_seconds < 0.07


def test_a_run_publishes_each_collectors_cpu_within_the_process_cpu():
    with Simulator(jobs=20_000, record=False) as sim:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = nbu_push("--dry-run", env=sim_env(sim, NBU_STATE_FILE="off"), timeout=120)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.code == 0, result.stderr
    cpu = {labels[0][1]: value for labels, value
           in series(result.stdout)["nbu_push_collector_cpu_seconds"].items()}
    published = series(result.stdout)["nbu_push_collector_success"]
    assert set(cpu) == {labels[0][1] for labels in published}
    process = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert all(value > 0 for value in cpu.values())
    assert sum(cpu.values()) < process
    assert cpu["jobs"] == max(cpu.values())  # 20,000 jobs: the most work by far
