"""The run state: each job read once, counters that equal the truth whatever fails.

Runs share one state file; time passes by moving the simulated primary's clock (its `Date`
header), so the settle delay is the real default. The truth is the simulator's own
(`Dataset.truth` over the interval nbu-push reports), never nbu-push's code.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from nbu_push.collect.jobs import slices_for
from nbu_push.config import settings_from
from nbu_push.run import run
from nbu_push.runtime.errors import StateError
from nbu_push.runtime.files import PIECE_CHARACTERS
from nbu_push.simulator import Faults, Simulator
from nbu_push.state import FORMAT, RunState, load, save

from .cli import nbu_push, sim_env
from .truth import published_ms, series
from .truth.jobs import tally, window_tally

MINUTE = 60_000
COUNTERS = ("nbu_jobs_finished_total", "nbu_jobs_transferred_bytes_total",
            "nbu_jobs_transferred_files_total", "nbu_jobs_data_transferred_bytes_total")


def truth_series(sim: Simulator, start_ms: int, end_ms: int) -> dict[str, dict[tuple, float]]:
    truth = tally(sim.dataset.jobs, start_ms, end_ms)
    names = ("job_type", "policy_type", "status")

    def labelled(values: dict) -> dict[tuple, float]:
        return {tuple(sorted(zip(names, key, strict=True))): float(v) for key, v in values.items()}

    return {"nbu_jobs_finished_total": labelled(truth.finished),
            "nbu_jobs_transferred_bytes_total": labelled(truth.transferred_bytes),
            "nbu_jobs_data_transferred_bytes_total": labelled(truth.data_transferred_bytes),
            "nbu_jobs_transferred_files_total": labelled(truth.files)}


class Runs:
    """nbu-push runs against one simulator with one state file and one textfile."""

    def __init__(self, sim: Simulator, tmp_path: Path, **env: str) -> None:
        self.sim = sim
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.textfile = tmp_path / "nbu_push.prom"
        self.state = tmp_path / "state" / "primary.json"
        self.env = sim_env(sim, **{"NBU_PUSH_TEXTFILE": str(self.textfile),
                                   "NBU_CONCURRENCY": "1", "NBU_STATE_FILE": str(self.state),
                                   "NBU_LOCK_FILE": "off", **env})
        self.read: list[float] = []  # jobs records read, per run
        self.requests: list[float] = []

    def once(self, expect: int = 0, **env: str) -> dict[str, dict[tuple, float]]:
        result = nbu_push(env={**self.env, **env})
        assert result.code == expect, result.stderr
        assert "Traceback" not in result.stderr
        return self.published()

    def published(self) -> dict[str, dict[tuple, float]]:
        values = series(self.textfile.read_text())
        jobs = (("collector", "jobs"),)
        self.read.append(values["nbu_push_records_read"][jobs])
        self.requests.append(values["nbu_push_api_requests"][jobs])
        return values

    def saved_watermark(self) -> int:
        return json.loads(self.state.read_text())["collectors"]["jobs"]["watermark_ms"]

    def advance(self, minutes: float) -> None:
        """Time passes on the primary."""
        self.sim.clock_offset += minutes * 60
        time.sleep(0.01)


def watermark(values: dict) -> int:
    found = published_ms(values, "nbu_jobs_read_until_timestamp_seconds")
    assert found is not None
    return found


def counted_since(values: dict) -> int:
    found = published_ms(values, "nbu_jobs_counted_since_timestamp_seconds")
    assert found is not None
    return found


def assert_counters_true(values: dict, sim: Simulator) -> None:
    truth = truth_series(sim, counted_since(values), watermark(values))
    for name in COUNTERS:
        assert values.get(name, {}) == truth[name], name


def add_arrivals(sim: Simulator, after_ms: int) -> None:
    """New jobs: one exactly on the watermark, one written late (ended a minute before the
    primary's now, inside the settle delay), a failure of a new label set, a parent."""
    now = sim.now_ms()
    sim.add_job(after_ms)
    sim.add_job(now - MINUTE, status=0, policy_type="WINDOWS_NT")
    sim.add_job(now - 30_000, status=6, policy_type="ORACLE", job_type="DBBACKUP")
    sim.add_job(max(after_ms, now - 20_000), status=1)


def test_each_job_is_read_once_and_the_counters_are_true(tmp_path):
    with Simulator(jobs=1500, seed=3) as sim:
        runs = Runs(sim, tmp_path)
        first = runs.once()
        assert first.get("nbu_jobs_finished_total", {}) == {}  # the past is never counted
        backfilled = sum(first["nbu_jobs_finished"].values())
        assert backfilled == sum(window_tally(sim, 3600).finished.values()) > 100
        assert first["nbu_jobs_backfill_in_progress"] == {(): 0.0}
        w1 = watermark(first)
        assert abs(w1 - (sim.now_ms() - 2 * MINUTE)) < 5_000  # the primary's clock - settle
        add_arrivals(sim, w1)
        runs.advance(10)
        second = runs.once()
        new = second["nbu_jobs_finished_total"]
        assert set(new.values()) == {0.0}  # new label sets: published at 0 first
        add_arrivals(sim, watermark(second))
        runs.advance(10)
        runs.once()
        runs.advance(10)
        last = runs.once()
        assert_counters_true(last, sim)
        assert sum(last["nbu_jobs_finished_total"].values()) == 8
        # each job fetched once: the runs after the first read exactly the new jobs
        assert runs.read[1:] == [4, 4, 0]
        assert runs.requests[1:] == [1, 1, 1]  # one page each (one slice, < 100 jobs)
        assert runs.read[0] == sum(tally(sim.dataset.jobs, w1 - 24 * 3600_000, w1)
                                   .finished.values())


def test_a_state_is_small_and_does_not_grow_with_jobs(tmp_path):
    """At most one row per minute and label set, whatever the number of jobs."""
    for jobs in (2_000, 80_000):
        with Simulator(jobs=jobs, seed=4, policy_types=[("STANDARD", 1)]) as sim:
            runs = Runs(sim, tmp_path / str(jobs), NBU_CONCURRENCY="4")
            runs.once()
            label_sets = len(window_tally(sim, 3600).finished)
        rows = json.loads(runs.state.read_text())["collectors"]["jobs"]["buckets"]
        assert len({row[0] for row in rows}) <= 62  # the 1-hour window, minute by minute
        assert len(rows) <= 62 * label_sets
        assert runs.state.stat().st_size < 300_000


@pytest.mark.parametrize("failure", ["push", "textfile", "state", "sigterm", "deadline"])
def test_no_job_lost_or_counted_twice_whatever_fails(tmp_path, failure, monkeypatch):
    with Simulator(jobs=800, seed=5) as sim:
        runs = Runs(sim, tmp_path)
        first = runs.once()
        add_arrivals(sim, watermark(first))
        runs.advance(10)
        before = runs.state.read_bytes()
        if failure == "push":  # a Pushgateway that refuses connections; the textfile works
            with socket.socket() as closed:
                closed.bind(("127.0.0.1", 0))
                port = closed.getsockname()[1]
            runs.once(expect=75, PUSHGATEWAY_URL=f"http://127.0.0.1:{port}")
        elif failure == "textfile":  # the textfile cannot be replaced: a folder in its way
            blocked = tmp_path / "blocked.prom"
            blocked.mkdir()
            result = nbu_push(env={**runs.env, "NBU_PUSH_TEXTFILE": str(blocked)})
            assert result.code == 1, result.stderr
        elif failure == "state":  # the state cannot be written (the disk is full)
            real_replace = os.replace

            def full_disk(source, target, *args, **kwargs):
                if str(target) == str(runs.state):
                    raise OSError(28, os.strerror(28))
                return real_replace(source, target, *args, **kwargs)

            monkeypatch.setattr(os, "replace", full_disk)
            raw = {"url": sim.url, "api_key": sim.api_key, "site": "test-site",
                   "textfile": str(runs.textfile), "concurrency": "1",
                   "state_file": str(runs.state), "lock_file": "off"}
            assert run(settings_from(raw)) == 1
            monkeypatch.setattr(os, "replace", real_replace)
            assert runs.state.read_bytes() == before
            assert [p.name for p in runs.state.parent.iterdir()] == ["primary.json"]
        elif failure == "sigterm":  # killed mid-read, at a random page
            sim.faults = Faults(latency_ms=150)
            proc = subprocess.Popen([sys.executable, "-m", "nbu_push"], env=runs.env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.6)
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
            assert proc.returncode == 143, stderr
            sim.faults = Faults()
        elif failure == "deadline":  # slow pages: the run ends before the read does
            sim.faults = Faults(latency_ms=300)
            # every collector reads (tape media too, or it would publish its kept counts)
            runs.once(expect=75, NBU_DEADLINE="0.5s", NBU_TAPE_MEDIA_INTERVAL="0s")
            sim.faults = Faults()
        add_arrivals(sim, runs.saved_watermark())
        for _ in range(3):
            runs.advance(10)
            last = runs.once()
        assert_counters_true(last, sim)
        assert sum(last["nbu_jobs_finished_total"].values()) == 8


def test_a_deadline_keeps_the_backfill_read_so_far(tmp_path):
    """A backfill too slow for one run continues in the next; nothing is read twice."""
    with Simulator(jobs=6000, seed=6, faults=Faults(latency_ms=40)) as sim:
        runs = Runs(sim, tmp_path, NBU_CONCURRENCY="4", NBU_JOB_SLICING="time")
        first = runs.once(expect=0, NBU_DEADLINE="1.2s")
        assert first["nbu_jobs_backfill_in_progress"] == {(): 1.0}
        progress = [watermark(first)]
        for _ in range(20):
            values = runs.once(NBU_DEADLINE="1.2s")
            progress.append(watermark(values))
            if values["nbu_jobs_backfill_in_progress"] == {(): 0.0}:
                break
        assert values["nbu_jobs_backfill_in_progress"] == {(): 0.0}
        assert progress == sorted(progress) and len(runs.read) >= 2
        end = watermark(values)
        jobs = sum(tally(sim.dataset.jobs, end - 24 * 3600_000, end).finished.values())
        # each job fetched once, but for the few ending exactly at a stopped chain's last
        # endTime, which the next run reads again (and counts once)
        assert jobs <= sum(runs.read) <= jobs + 4 * 2 * len(runs.read)
        assert values["nbu_jobs_finished"] == {
            tuple(sorted(zip(("job_type", "policy_type", "status"), key, strict=True))):
            float(n) for key, n in window_tally(sim, 3600).finished.items()}


def test_a_backfill_in_progress_publishes_the_window_before_its_watermark(tmp_path):
    """One slice stopped by the deadline mid-backfill: the window gauges are the jobs of the
    hour before the watermark, to the minute (the slice kept those minutes, not hours)."""
    with Simulator(jobs=6000, seed=8, faults=Faults(latency_ms=40)) as sim:
        runs = Runs(sim, tmp_path)  # NBU_CONCURRENCY=1: nothing is read ahead
        stopped = 0
        for _ in range(10):
            values = runs.once(NBU_DEADLINE="1.2s")
            end = watermark(values)
            start = end - end % MINUTE - 3600_000  # the minute edge at or before end - 1h
            assert values.get("nbu_jobs_finished", {}) == {
                tuple(sorted(zip(("job_type", "policy_type", "status"), key, strict=True))):
                float(n) for key, n in tally(sim.dataset.jobs, start, end).finished.items()}
            if values["nbu_jobs_backfill_in_progress"] == {(): 0.0}:
                break
            stopped += 1
        assert stopped >= 2 and values["nbu_jobs_backfill_in_progress"] == {(): 0.0}


def test_several_windows_get_a_window_label(tmp_path):
    with Simulator(jobs=1200, seed=7) as sim:
        values = Runs(sim, tmp_path, NBU_JOB_WINDOW="1h,24h").once()
    assert values["nbu_jobs_window_seconds"] == {(("window", "1h"),): 3600.0,
                                                 (("window", "24h"),): 86400.0}
    for name, seconds in (("1h", 3600), ("24h", 86400)):
        finished = {labels: v for labels, v in values["nbu_jobs_finished"].items()
                    if ("window", name) in labels}
        assert sum(finished.values()) == sum(window_tally(sim, seconds).finished.values())


@pytest.mark.parametrize("offset_hours", [-3, 5])
def test_the_watermark_follows_the_primarys_clock(tmp_path, offset_hours):
    with Simulator(jobs=300, seed=8, clock_offset=offset_hours * 3600) as sim:
        values = Runs(sim, tmp_path).once()
        expected = sim.now_ms() - 2 * MINUTE
    assert abs(watermark(values) - expected) < 5_000


def test_dry_run_reads_the_state_and_never_writes_it(tmp_path):
    with Simulator(jobs=300, seed=9) as sim:
        runs = Runs(sim, tmp_path)
        runs.once()
        saved = runs.state.read_bytes()
        runs.advance(10)
        result = nbu_push("--dry-run", env=runs.env)
        assert result.code == 0, result.stderr
        assert runs.state.read_bytes() == saved
        assert series(result.stdout)["nbu_jobs_read_until_timestamp_seconds"] != \
            series(runs.textfile.read_text())["nbu_jobs_read_until_timestamp_seconds"]
    fresh = tmp_path / "never"
    with Simulator(jobs=50) as sim:
        assert nbu_push("--dry-run", env=sim_env(sim, NBU_STATE_FILE=str(fresh))).code == 0
    assert not fresh.exists()


BAD_STATES = [
    ("corrupt", b"{not json", "corrupt"),
    ("future format", json.dumps({"format": FORMAT + 1, "collectors": {}}).encode(),
     "has format"),
    ("other site", json.dumps({"format": FORMAT, "site": "elsewhere", "server": "x",
                               "collectors": {}}).encode(), "belongs to site"),
    ("not a state", b"[1, 2]", "not an nbu-push state"),
]


@pytest.mark.parametrize("name,content,warning", BAD_STATES, ids=[b[0] for b in BAD_STATES])
def test_a_bad_state_is_one_warning_and_a_fresh_start(tmp_path, name, content, warning):
    with Simulator(jobs=400, seed=10) as sim:
        runs = Runs(sim, tmp_path)
        runs.state.parent.mkdir(parents=True)
        runs.state.write_bytes(content)
        result = nbu_push(env=runs.env)
        assert result.code == 0, result.stderr
        assert result.stderr.count("WARNING") == 1 and warning in result.stderr
        values = runs.published()
        assert sum(values["nbu_jobs_finished"].values()) == sum(
            window_tally(sim, 3600).finished.values())
        assert json.loads(runs.state.read_text())["format"] == FORMAT


def test_invalid_jobs_state_inside_a_valid_file_starts_the_jobs_afresh(tmp_path):
    with Simulator(jobs=400, seed=11) as sim:
        runs = Runs(sim, tmp_path)
        runs.once()
        document = json.loads(runs.state.read_text())
        document["collectors"]["jobs"]["counters"] = [["BACKUP", "STANDARD", "0", -5, 0, 0, 0]]
        runs.state.write_text(json.dumps(document))
        result = nbu_push(env=runs.env)
        assert result.code == 0 and "job state is invalid" in result.stderr
        assert runs.published().get("nbu_jobs_finished_total", {}) == {}


def test_state_files_are_written_atomically_and_privately(tmp_path):
    path = tmp_path / "deep" / "s.json"
    state = RunState("site-a", "https://nbu:1556/netbackup", {"jobs": {"x": 1}})
    save(str(path), state)
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(path.parent)) == ["s.json"]
    loaded, warning = load(str(path), "site-a", "https://nbu:1556/netbackup")
    assert warning is None  # each collector's part stays JSON text until it is used
    assert {name: msgspec.json.decode(part) for name, part in loaded.collectors.items()} == {
        "jobs": {"x": 1}}
    _, warning = load(str(path), "site-a", "https://other:1556/netbackup")
    assert warning and "starting afresh" in warning
    path.chmod(0o000)
    if os.geteuid() != 0:  # root reads it anyway
        _, warning = load(str(path), "site-a", "https://nbu:1556/netbackup")
        assert warning and "unreadable" in warning


def test_a_state_is_written_in_pieces_as_json_dumps_would_write_it(tmp_path):
    """Tables given as iterators are written row by row (never held whole); the file is the
    same JSON as json.dumps of the lists, across many write batches."""
    rows = [[minute, "BACKUP", f"policy-{minute % 7}", "0", minute, None, 2**70, 0]
            for minute in range(20_000)]
    collectors = {"jobs": {"watermark_ms": 5, "read_ahead": [], "buckets": iter(rows)},
                  "clients": {"facts": (row[:3] for row in rows), "looked_up": [["a", 1]]}}
    path = tmp_path / "s.json"
    save(str(path), RunState("site-a", "https://nbu:1556/netbackup", collectors))
    expected = {"format": 1, "site": "site-a", "server": "https://nbu:1556/netbackup",
                "collectors": {"jobs": {"watermark_ms": 5, "read_ahead": [], "buckets": rows},
                               "clients": {"facts": [row[:3] for row in rows],
                                           "looked_up": [["a", 1]]}}, "outputs": {}}
    assert path.stat().st_size > 4 * PIECE_CHARACTERS
    assert path.read_bytes() == json.dumps(expected, separators=(",", ":")).encode()
    # a value JSON cannot hold, half-way through a table: the previous state stays
    broken = iter([[1, 2], [float("nan")]])
    with pytest.raises(StateError):
        save(str(path), RunState("site-a", "https://nbu:1556/netbackup", {"jobs": broken}))
    assert json.loads(path.read_bytes()) == expected
    assert sorted(os.listdir(tmp_path)) == ["s.json"]


def slicing_counts(sim: Simulator) -> int:
    """The jobs collector's slice counts: `endTime` ranges counted before reading."""
    return sum(1 for r in sim.requests if r.path == "/admin/jobs-count-requests"
               and b"endTime ge" in r.body)


def test_new_jobs_that_fill_few_pages_are_read_in_one_chain_without_counts(tmp_path):
    """At NBU_CONCURRENCY=4, a run whose new jobs fill three pages (by the recent rate the
    state shows) reads them in three requests; a run after a long pause, whose gap the rate
    says holds many pages, still cuts it into counted slices."""
    with Simulator(jobs=3000, seed=5, finished=True, hours=2) as sim:
        runs = Runs(sim, tmp_path, NBU_CONCURRENCY="4")
        w1 = watermark(runs.once())
        for n in range(250):
            sim.add_job(w1 + n * 1000)
        runs.advance(10)
        sim.requests.clear()
        second = runs.once()
        assert slicing_counts(sim) == 0
        assert runs.read[1] == 250 and runs.requests[1] == math.ceil(250 / 100)
        runs.advance(6 * 60)  # six hours later: about 90 pages expected at the recent rate
        sim.requests.clear()
        runs.once()
        assert slicing_counts(sim) >= 4
        assert_counters_true(runs.published(), sim)
    assert sum(second["nbu_jobs_finished"].values()) > 250  # the window: backfill and new


@pytest.mark.parametrize("rate_per_hour,gap_minutes,expected", [
    (None, 5, 4),  # a first run: its share of the concurrency
    (10_000, 5, 1),  # 834 jobs, 9 pages: one chain
    (100_000, 5, 4),  # 8,334 jobs, 84 pages: every slice earns its count
    (30_000, 5, 2),  # 2,500 jobs, 25 pages: two slices of more than ten pages
    (0, 5, 1),
])
def test_slices_follow_the_pages_a_gap_is_expected_to_hold(rate_per_hour, gap_minutes,
                                                          expected):
    gap = gap_minutes * 60_000
    rate = None if rate_per_hour is None else rate_per_hour / 3_600_000
    assert slices_for(4, gap, gap, rate) == expected


def test_a_day_long_window_keeps_hours_beyond_two_hours_of_minutes(tmp_path):
    """With NBU_JOB_WINDOW=1h,24h the state holds minutes for the last two hours and hours
    before that; the 24-hour window, summed from both, counts from the hour edge at or
    before watermark - 24 h (the simulator's jobs ending before it are left out, those
    after it in), and the 1-hour window is still exact to the minute."""
    with Simulator(jobs=2500, seed=12, hours=30, finished=True) as sim:
        runs = Runs(sim, tmp_path, NBU_JOB_WINDOW="1h,24h", NBU_JOB_BACKFILL="30h")
        values = runs.once()
        state = json.loads(runs.state.read_text())["collectors"]["jobs"]
        end = watermark(values)
    minutes = {row[0] for row in state["buckets"]}
    hours = {row[0] for row in state["hours"]}
    assert minutes and min(minutes) >= end - 2 * 3600_000 - MINUTE
    assert hours and all(hour % 3600_000 == 0 for hour in hours)
    assert min(hours) == (end - 86400_000) // 3600_000 * 3600_000
    for name, since in (("1h", end - 3600_000 - (end - 3600_000) % MINUTE),
                        ("24h", (end - 86400_000) // 3600_000 * 3600_000)):
        published = sum(v for labels, v in values["nbu_jobs_finished"].items()
                        if ("window", name) in labels)
        assert published == sum(tally(sim.dataset.jobs, since, end).finished.values()) > 0


def test_the_state_of_a_collector_that_did_not_run_is_written_back_as_read(tmp_path):
    """Each collector's part stays JSON text until it runs: a run with only `jobs` leaves
    the clients' and the alerts' parts byte for byte as they were."""
    with Simulator(jobs=300, seed=13) as sim:
        runs = Runs(sim, tmp_path)
        runs.once()
        before = json.loads(runs.state.read_text())["collectors"]
        text_before = runs.state.read_text()
        runs.advance(10)
        runs.once(NBU_COLLECTORS="jobs")
        after = json.loads(runs.state.read_text())["collectors"]
    assert before.keys() == after.keys() and len(before) > 2
    for name in set(before) - {"jobs"}:
        assert after[name] == before[name], name
        written = json.dumps(before[name], separators=(",", ":"))
        assert written in text_before and written in runs.state.read_text()
    assert after["jobs"] != before["jobs"]
