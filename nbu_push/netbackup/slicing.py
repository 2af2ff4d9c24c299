"""Cutting an `endTime` interval into slices that hold about equal numbers of jobs.

Pure: the caller supplies `count`, which asks the server how many jobs end in each of
several half-open millisecond ranges (`POST /admin/jobs-count-requests`, in parallel).

The interval is first cut into equal lengths of time and counted. Cuts are placed as if jobs
ended evenly inside each counted range, which is wrong where backups bunch up (a backup
window in which most jobs end within minutes). So a range a cut falls in is counted again,
finer, when it holds more than half a slice's jobs and its density differs more than twofold
from a neighbour's: up to `ZOOMS` more rounds of about `FAN_OUT` counts each (in parallel), so
a 6-minute burst in 24 hours is found even with two slices. Evenly spread jobs cost no extra
round.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

Range = tuple[int, int]  # [start, end) in Unix milliseconds
Bin = tuple[int, int, int]  # start, end, jobs ending in [start, end)
Count = Callable[[list[Range]], list[int]]

ZOOMS = 4  # rounds of finer counts after the first
FAN_OUT = 8  # ranges counted per round of zooming in (more only with over 8 uneven bins)


def split_window(start_ms: int, end_ms: int, parts: int) -> list[Range]:
    """Disjoint half-open [start, end) millisecond slices that cover the window exactly."""
    parts = max(1, min(parts, end_ms - start_ms)) if end_ms > start_ms else 1
    bounds = [start_ms + (end_ms - start_ms) * i // parts for i in range(parts + 1)]
    return list(pairwise(bounds))


def _cuts(total: int, parts: int) -> list[float]:
    return [total * target / parts for target in range(1, parts)]


def balanced_bounds(histogram: list[Bin], parts: int) -> list[Range]:
    """`parts` slices of about equal job counts, cut inside each bin as if its jobs ended
    evenly (a piecewise-linear distribution)."""
    total = sum(count for _, _, count in histogram)
    if total == 0:
        return [(start, end) for start, end, _ in histogram]
    bounds, seen = [histogram[0][0]], 0
    cuts = iter(_cuts(total, parts))
    cut = next(cuts, None)
    for start, end, count in histogram:
        while cut is not None and count and seen + count >= cut:
            bounds.append(start + int((end - start) * (cut - seen) / count))
            cut = next(cuts, None)
        seen += count
    bounds.append(histogram[-1][1])
    return list(pairwise(sorted(set(bounds))))


def _density(bin_: Bin) -> float:
    start, end, count = bin_
    return count / (end - start)


def uneven_bins(histogram: list[Bin], parts: int) -> list[int]:
    """Indexes of the bins worth counting finer: a cut falls strictly inside, they hold more
    than half a slice, and their density is over twice or under half a neighbour's."""
    total = sum(count for _, _, count in histogram)
    cuts, found, seen = _cuts(total, parts), [], 0
    for index, (start, end, count) in enumerate(histogram):
        has_cut = any(seen < cut < seen + count for cut in cuts)
        seen += count
        if not has_cut or count <= total / parts / 2 or end - start < 2:
            continue
        density = _density(histogram[index])
        neighbours = histogram[max(0, index - 1):index] + histogram[index + 1:index + 2]
        if any(density > 2 * _density(other) or 2 * density < _density(other)
               for other in neighbours):
            found.append(index)
    return found


def plan(start_ms: int, end_ms: int, parts: int, count: Count) -> list[Range]:
    """Slices of [start_ms, end_ms) holding about equal job counts (see the module doc)."""
    ranges = split_window(start_ms, end_ms, parts)
    if len(ranges) < 2:
        return ranges
    histogram = [(start, end, n) for (start, end), n in zip(ranges, count(ranges), strict=True)]
    for _ in range(ZOOMS):
        uneven = uneven_bins(histogram, parts)
        if not uneven:
            break
        pieces = {index: split_window(*histogram[index][:2], max(2, FAN_OUT // len(uneven)))
                  for index in uneven}
        # the last piece of each bin is the bin's count minus the others: not asked for
        asked = [piece for split in pieces.values() for piece in split[:-1]]
        answers = iter(count(asked))
        finer: list[Bin] = []
        for index, bin_ in enumerate(histogram):
            if index not in pieces:
                finer.append(bin_)
                continue
            counted = [(start, end, next(answers)) for start, end in pieces[index][:-1]]
            rest = max(0, bin_[2] - sum(n for _, _, n in counted))
            finer += [*counted, (*pieces[index][-1], rest)]
        histogram = finer
    return balanced_bounds(histogram, parts)
