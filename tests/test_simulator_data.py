"""The simulator's data options that benchmarks use: every job finished, a longer span."""

from __future__ import annotations

import pytest

from nbu_push.simulator.__main__ import main
from nbu_push.simulator.data import generate

HOUR_MS = 3_600_000


@pytest.mark.parametrize("hours", [5, 23])
def test_finished_jobs_all_end_within_the_hours(hours):
    dataset = generate(jobs=2000, seed=4, finished=True, hours=hours, anchor_ms=100 * HOUR_MS)
    ends = [job.end_ms for job in dataset.jobs]
    assert len(ends) == 2000 and None not in ends
    assert all(100 * HOUR_MS - hours * HOUR_MS <= end < 100 * HOUR_MS for end in ends)
    assert min(ends) < 100 * HOUR_MS - (hours - 1) * HOUR_MS  # the span is used, not just 5 h
    assert {job.state for job in dataset.jobs} <= {"DONE", "INCOMPLETE"}


def test_by_default_some_jobs_run_and_one_ended_long_ago():
    dataset = generate(jobs=2000, seed=4, anchor_ms=100 * HOUR_MS)
    assert any(job.end_ms is None for job in dataset.jobs)
    assert min(job.end_ms for job in dataset.jobs if job.end_ms) < 100 * HOUR_MS - 24 * HOUR_MS


def test_a_span_shorter_than_the_older_jobs_is_refused(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["--hours", "0.5"])
    assert refused.value.code == 2
    assert "--hours must cover at least 70 minutes" in capsys.readouterr().err
