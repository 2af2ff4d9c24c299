"""Parallel cursor chains give exactly the sequential totals; boundary jobs count once."""

from __future__ import annotations

import random

import pytest

from nbu_push.collect.base import CollectContext
from nbu_push.collect.jobs import collect_jobs
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.netbackup.slicing import FAN_OUT, ZOOMS, split_window
from nbu_push.simulator import Simulator, generate
from nbu_push.simulator.data import render_job

from .truth.jobs import window_tally


def collect(sim: Simulator, concurrency: int, balance: bool = True, now_ms: int | None = None):
    client = NetBackupClient(sim.url)
    client.set_credential(sim.api_key)
    client.api_version = "14.0"
    now = (now_ms if now_ms is not None else sim.dataset.anchor_ms) / 1000
    ctx = CollectContext(now=now, concurrency=concurrency, balance_slices=balance)
    return collect_jobs(client, ctx).groups, ctx.stats


def as_truth(groups) -> dict:
    return {key: group.finished for key, group in groups.items()}


@pytest.fixture(scope="module")
def bursty():
    with Simulator(jobs=6000, burst=0.8) as sim:
        yield sim


@pytest.mark.parametrize("concurrency,balance", [(2, True), (3, False), (8, True), (8, False)])
def test_parallel_totals_equal_sequential_totals(bursty, concurrency, balance):
    sequential, _ = collect(bursty, 1)
    parallel, _ = collect(bursty, concurrency, balance)
    assert parallel == sequential
    assert as_truth(parallel) == window_tally(bursty, 3600).finished


def test_balanced_slices_spread_a_burst(bursty):
    _, equal = collect(bursty, 8, balance=False)
    _, balanced = collect(bursty, 8, balance=True)
    # Equal time slices leave one chain with most of the burst: more pages in series.
    # With counts, no slice needs much more than its share; total pages stay minimal.
    jobs_in_window = sum(window_tally(bursty, 3600).finished.values())
    assert balanced.records == equal.records == jobs_in_window
    assert balanced.pages <= -(-jobs_in_window // 100) + 8
    # one count request per slice, then at most ZOOMS rounds of at most FAN_OUT finer counts
    assert balanced.pages + 8 <= balanced.requests <= balanced.pages + 8 + ZOOMS * FAN_OUT


def test_jobs_ending_exactly_on_a_slice_boundary_count_once():
    dataset = generate(jobs=400, seed=3)
    end = dataset.anchor_ms
    bounds = [b for pair in split_window(end - 3_600_000, end, 4) for b in pair]
    rng = random.Random(0)
    for job, boundary in zip(dataset.jobs, bounds * 5, strict=False):
        job.end_ms = boundary
        job.state = "DONE"
        job.rendered = render_job(job, "https://x/netbackup", rng)
    with Simulator(dataset=dataset) as sim:
        for concurrency in (1, 4):
            groups, _ = collect(sim, concurrency, balance=False)
            assert as_truth(groups) == window_tally(sim, 3600).finished


def test_wait_within_ends_at_the_deadline_plus_its_grace_or_at_a_cancel():
    import threading
    import time
    from concurrent.futures import Future

    from nbu_push.runtime.deadline import Deadline, wait_within

    never, done = Future(), Future()
    done.set_result(1)
    began = time.monotonic()
    assert wait_within([never, done], Deadline(0.2), grace=0.3) == {never}
    assert 0.45 <= time.monotonic() - began < 2  # the deadline, then the grace

    deadline = Deadline(60)
    threading.Timer(0.1, deadline.cancel, args=("SIGTERM",)).start()
    began = time.monotonic()
    assert wait_within([never], deadline) == {never}
    assert time.monotonic() - began < 1  # a cancel is noticed within a wake, not in 60 s
    assert wait_within([done], Deadline(60)) == set()
