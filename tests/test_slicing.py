"""Slices of equal job counts: the pure planner against job end times it cannot see."""

from __future__ import annotations

import bisect
import random
from itertools import pairwise

import pytest

from nbu_push.netbackup.slicing import FAN_OUT, ZOOMS, balanced_bounds, plan, split_window

DAY = 86_400_000


class Server:
    """Answers counts from a sorted list of end times, and records each round asked."""

    def __init__(self, ends: list[int]) -> None:
        self.ends = sorted(ends)
        self.rounds: list[int] = []

    def count(self, ranges: list[tuple[int, int]]) -> list[int]:
        self.rounds.append(len(ranges))
        return [self.holds(start, end) for start, end in ranges]

    def holds(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.ends, end) - bisect.bisect_left(self.ends, start)


def covers(slices: list[tuple[int, int]], start: int, end: int) -> bool:
    return (slices[0][0] == start and slices[-1][1] == end
            and all(a[1] == b[0] and a[0] < a[1] for a, b in pairwise(slices)))


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 8])
def test_equal_time_slices_are_disjoint_and_cover_the_window(parts):
    slices = split_window(1_000, 4_601, parts)
    assert covers(slices, 1_000, 4_601) and len(slices) == parts


def test_cuts_assume_jobs_end_evenly_inside_a_bin():
    histogram = [(0, 1000, 0), (1000, 2000, 0), (2000, 3000, 1000), (3000, 4000, 0)]
    assert balanced_bounds(histogram, 4) == [(0, 2250), (2250, 2500), (2500, 2750),
                                             (2750, 4000)]
    even = [(0, 1000, 10), (1000, 2000, 10), (2000, 3000, 10), (3000, 4000, 10)]
    assert balanced_bounds(even, 4) == [(0, 1000), (1000, 2000), (2000, 3000), (3000, 4000)]
    assert balanced_bounds([(s, e, 0) for s, e, _ in even], 4) == [(s, e) for s, e, _ in even]


def backup_window(seed: int, jobs: int) -> list[int]:
    """Jobs over the last 5 h of a day, most in the last 50 minutes, 80 % of those in six."""
    rng = random.Random(seed)
    ends = []
    for _ in range(jobs):
        if rng.random() < 0.2:
            ends.append(DAY - rng.randint(70 * 60_000, 5 * 3_600_000))
        elif rng.random() < 0.8:
            ends.append(DAY - rng.randint(30 * 60_000, 36 * 60_000))
        else:
            ends.append(DAY - rng.randint(3 * 60_000, 50 * 60_000))
    return ends


@pytest.mark.parametrize("parts", [2, 4, 8])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_backup_window_is_cut_into_equal_counts(parts, seed):
    server = Server(backup_window(seed, 50_000))
    slices = plan(0, DAY, parts, server.count)
    assert covers(slices, 0, DAY) and len(slices) == parts
    sizes = [server.holds(*bounds) for bounds in slices]
    assert sum(sizes) == 50_000
    assert max(sizes) <= 1.15 * 50_000 / parts, sizes
    # equal times alone leave most jobs in one slice
    assert max(server.holds(*bounds) for bounds in split_window(0, DAY, parts)) > 40_000
    assert 2 <= len(server.rounds) <= 1 + ZOOMS
    assert server.rounds[0] == parts and all(n <= FAN_OUT for n in server.rounds[1:])


def test_evenly_spread_jobs_cost_one_round():
    rng = random.Random(3)
    server = Server([rng.randrange(DAY) for _ in range(20_000)])
    slices = plan(0, DAY, 8, server.count)
    assert server.rounds == [8]
    assert max(server.holds(*bounds) for bounds in slices) <= 1.05 * 20_000 / 8


def test_jobs_ending_in_one_millisecond_stop_the_zoom():
    server = Server([DAY // 2] * 1_000)
    slices = plan(0, DAY, 4, server.count)
    assert covers(slices, 0, DAY)
    assert len(server.rounds) <= 1 + ZOOMS
    assert sum(server.holds(*bounds) for bounds in slices) == 1_000


def test_nothing_to_read_costs_one_round():
    server = Server([])
    assert plan(0, DAY, 4, server.count) == split_window(0, DAY, 4)
    assert server.rounds == [4]
