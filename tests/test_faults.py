"""The fault matrix (docs/reliability.md): every row runs a good run, then the faulty one, and
checks the exit code, the published status, the kept data and that no secret leaked."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time

import bcrypt
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.collect import collectors
from nbu_push.config import settings_from
from nbu_push.run import run
from nbu_push.simulator import Faults, Simulator

from .cli import clean_env, nbu_push, sim_env
from .conftest import Server, free_port, require_binary
from .truth import expected
from .truth.jobs import window_tally

SECRET_KEY = "nbu-SECRET-apikey-7d3f9e"
PG_PASSWORD = "pg-SECRET-password-41c2"
JOBS = 400


def parse(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted((k, v) for k, v in s.labels.items()
                                  if k not in ("site", "job", "instance")))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples
            if s.name.startswith("nbu_")}


def family(values: dict[tuple, float], prefix: str) -> dict[tuple, float]:
    return {k: v for k, v in values.items() if k[0].startswith(prefix)}


def data_of(values: dict[tuple, float], collector: str) -> dict[tuple, float]:
    """The series of every family the collector declares."""
    names = {f.name for f in collectors()[collector].families}
    return {k: v for k, v in values.items() if k[0] in names}


def expected_data(sim: Simulator, collector: str, after: dict[tuple, float]
                  ) -> dict[tuple, float]:
    """The simulator's truth for a collector, in parse()'s shape."""
    published: dict[str, dict] = {}
    for (name, labels), value in after.items():
        published.setdefault(name, {})[labels] = value
    return {(name, labels): value
            for name, series in expected(sim, published)[collector].items()
            for labels, value in series.items()}


OK = dict.fromkeys(collectors(), 1)
NONE = dict.fromkeys(collectors(), 0)


def failing(*names: str) -> dict[str, int]:
    """Every collector succeeds but these, and those that use them."""
    failed = set(names)
    for name, collector in collectors().items():  # in name order; `uses` are not chained
        if failed & set(collector.uses):
            failed.add(name)
    return {**OK, **dict.fromkeys(failed, 0)}


def collector_success(values: dict[tuple, float]) -> dict[str, float]:
    return {dict(k[1])["collector"]: v for k, v in values.items()
            if k[0] == "nbu_push_collector_success"}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET_KEY not in text and PG_PASSWORD not in text


class Pair:
    """A good run with seed 1, then the run under test with seed 2 (other values)."""

    def __init__(self, tmp_path, gateway) -> None:
        self.textfile = tmp_path / "nbu_push.prom"
        self.gateway = gateway
        self.env = {"PUSHGATEWAY_URL": gateway.url, "NBU_PUSH_TEXTFILE": str(self.textfile),
                    "NBU_LOCK_FILE": str(tmp_path / "lock")}
        with Simulator(jobs=JOBS, api_key=SECRET_KEY) as good:
            # no run state: were the faulty server given the good one's port (a port freed
            # is free again), it would be the same server and continue the good one's state
            first = nbu_push(env=sim_env(good, **self.env, NBU_STATE_FILE="off"))
        assert first.code == 0, first.stderr
        self.before = parse(self.textfile.read_text())
        self.pushed_before = self.pushed()

    def pushed(self) -> dict[tuple, float]:
        return parse(requests.get(self.gateway.url + "/metrics", timeout=5).text)

    def faulty(self, sim: Simulator, **env: str):
        self.sim = sim
        result = nbu_push(env=sim_env(sim, **{**self.env, **env}), timeout=120)
        self.after = parse(self.textfile.read_text())
        self.pushed_after = self.pushed()
        assert_no_secret(result.output, self.textfile.read_text(),
                         requests.get(self.gateway.url + "/metrics", timeout=5).text)
        assert "Traceback" not in result.output
        return result

    def check(self, success: dict[str, int]) -> None:
        """Status updated everywhere; failed collectors' data kept, others' replaced by the
        faulty server's true data."""
        for before, after in ((self.before, self.after),
                              (self.pushed_before, self.pushed_after)):
            assert collector_success(after) == success
            assert after[("nbu_push_success", ())] == int(all(success.values()))
            last = ("nbu_push_last_success_timestamp_seconds", ())
            if all(success.values()):
                assert after[last] > before[last]
            else:
                assert after[last] == before[last]
            for collector in success:
                if success[collector]:
                    assert data_of(after, collector) == expected_data(self.sim, collector, after)
                else:  # kept (the alerts counter has none yet: a first run only marks)
                    assert data_of(after, collector) == data_of(before, collector)
            failed = [collector for collector in success if not success[collector]]
            assert not failed or any(data_of(before, collector) for collector in failed)


WINDOW = "endTime ge"  # faults aimed at the jobs collector's window reads only
API_FAULTS = [
    ("503 burst, then success", {"faults": Faults(burst_503=2)}, {}, 0, OK),
    ("persistent 503", {"faults": Faults(always_503=True)}, {}, 75, NONE),
    ("connection reset mid-page", {"faults": Faults(reset_at=1)}, {}, 0, OK),
    ("read stall beyond the timeout", {"faults": Faults(stall_at=1, stall_seconds=3)},
     {"NBU_TIMEOUT": "1s"}, 0, OK),
    ("malformed JSON", {"faults": Faults(malformed_at=1, path="/admin/jobs", query=WINDOW)}, {}, 3,
     failing("jobs")),
    ("HTML 502 from a proxy", {"faults": Faults(html_502_at=1)}, {}, 0, OK),
    ("401 mid-run",
     {"faults": Faults(unauthorized_after=2, path="/admin/jobs", query=WINDOW)}, {}, 3,
     failing("jobs")),
    ("406 on every version", {"versions": ("9.0",)}, {}, 1, NONE),
    ("repeating cursor", {"faults": Faults(repeat_cursor=True)}, {"NBU_CONCURRENCY": "1"}, 3,
     failing("jobs")),
]


@pytest.mark.parametrize("name,sim_args,env,code,success", API_FAULTS,
                         ids=[row[0] for row in API_FAULTS])
def test_api_faults(tmp_path, gateway, name, sim_args, env, code, success):
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=JOBS, seed=2, api_key=SECRET_KEY, **sim_args) as sim:
        result = pair.faulty(sim, **env)
    assert result.code == code, result.stderr
    pair.check(success)


def test_401_on_the_first_request(tmp_path, gateway):
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=JOBS, seed=2, api_key="another-key") as sim:
        result = pair.faulty(sim, NBU_API_KEY=SECRET_KEY)
    assert result.code == 1 and "HTTP 401" in result.stderr
    pair.check(NONE)


def test_empty_200_publishes_zero_records(tmp_path, gateway):
    """Where an empty list is a possible answer (no jobs, no units) it is zero records; the
    collectors of endpoints that always have records fail instead (test_tape_and_servers)."""
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=JOBS, seed=2, api_key=SECRET_KEY, faults=Faults(empty=True)) as sim:
        result = pair.faulty(sim, NBU_COLLECTORS="jobs,storage,disk_pools")
    assert result.code == 0, result.stderr
    assert pair.after[("nbu_push_records_read", (("collector", "jobs"),))] == 0
    assert pair.after[("nbu_push_records_read", (("collector", "storage"),))] == 0
    assert family(pair.after, "nbu_storage_unit") == {}  # a successful run replaces


def test_one_malformed_record_is_skipped(tmp_path, gateway):
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=JOBS, seed=2, api_key=SECRET_KEY,
                   faults=Faults(bad_record=True)) as sim:
        result = pair.faulty(sim, NBU_CONCURRENCY="1", NBU_JOB_BACKFILL="1h")
        truth = window_tally(sim, 3600)
    assert result.code == 0
    assert pair.after[("nbu_push_records_skipped", (("collector", "jobs"),))] == 1
    finished = sum(family(pair.after, "nbu_jobs_finished").values())
    assert finished == sum(truth.finished.values()) - 1


def test_inconsistent_metrics_rejected_by_the_gateway(tmp_path, gateway):
    conflict = b"# TYPE nbu_push_success counter\nnbu_push_success 1\n"
    stored = requests.put(gateway.url + "/metrics/job/other", data=conflict, timeout=5)
    assert stored.status_code == 200
    textfile = tmp_path / "nbu_push.prom"
    with Simulator(jobs=JOBS, api_key=SECRET_KEY) as sim:
        result = nbu_push(env=sim_env(sim, PUSHGATEWAY_URL=gateway.url,
                                      NBU_PUSH_TEXTFILE=str(textfile)))
    assert result.code == 1
    assert "HTTP 400" in result.stderr and "Traceback" not in result.stderr
    groups = requests.get(gateway.url + "/api/v1/metrics", timeout=5).json()["data"]
    [ours] = [g for g in groups if g["labels"]["job"] == "nbu-push"]
    assert ours["last_push_successful"] is False
    assert not [name for name in ours if name.startswith("nbu_")]  # nothing half-pushed
    assert parse(textfile.read_text())[("nbu_push_success", ())] == 1  # the other sink worked
    assert_no_secret(result.output)


@pytest.fixture
def auth_gateway(tmp_path):
    binary = require_binary("prometheus-pushgateway")
    hashed = bcrypt.hashpw(PG_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    config = tmp_path / "web.yml"
    config.write_text(f"basic_auth_users:\n  nbu: {hashed}\n")
    server = Server(binary, ["--persistence.file=", f"--web.config.file={config}",
                             "--log.level=warn"], "/-/healthy", tmp_path,
                    ready_status=401)
    yield server
    server.stop()


def test_gateway_basic_auth(tmp_path, auth_gateway, simulator):
    env = sim_env(simulator, PUSHGATEWAY_URL=auth_gateway.url)
    refused = nbu_push(env={**env, "PUSHGATEWAY_USERNAME": "nbu",
                            "PUSHGATEWAY_PASSWORD": "wrong"})
    assert refused.code == 1 and "HTTP 401" in refused.stderr
    accepted = nbu_push(env={**env, "PUSHGATEWAY_USERNAME": "nbu",
                             "PUSHGATEWAY_PASSWORD": PG_PASSWORD})
    assert accepted.code == 0, accepted.stderr
    stored = requests.get(auth_gateway.url + "/api/v1/metrics", auth=("nbu", PG_PASSWORD),
                          timeout=5).json()["data"]
    assert stored and stored[0]["labels"]["site"] == "test-site"
    assert_no_secret(refused.output, accepted.output)


@pytest.mark.parametrize("error", [13, 28])  # EACCES (not writable), ENOSPC (disk full)
def test_textfile_write_failure_keeps_the_previous_file(tmp_path, monkeypatch, caplog, error):
    textfile = tmp_path / "nbu_push.prom"
    with Simulator(jobs=200, api_key=SECRET_KEY) as sim:
        raw = {"url": sim.url, "api_key": SECRET_KEY, "textfile": str(textfile),
               "lock_file": "off"}
        assert run(settings_from(raw)) == 0
        previous = textfile.read_bytes()

        def failing_replace(*args, **kwargs):
            raise OSError(error, os.strerror(error))

        monkeypatch.setattr(os, "replace", failing_replace)
        assert run(settings_from(raw)) == 1
    assert textfile.read_bytes() == previous
    assert os.listdir(tmp_path) == ["nbu_push.prom"]
    assert os.strerror(error) in caplog.text
    assert SECRET_KEY not in caplog.text


def test_missing_textfile_directory_is_a_configuration_error(simulator, tmp_path):
    result = nbu_push(env=sim_env(simulator,
                                  NBU_PUSH_TEXTFILE=str(tmp_path / "gone" / "nbu.prom")))
    assert result.code == 78 and "does not exist" in result.stderr
    assert not (tmp_path / "gone").exists()


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_run_publishes_the_failure_status(tmp_path, gateway, signum, code):
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=3000, seed=2, api_key=SECRET_KEY,
                   faults=Faults(latency_ms=300)) as sim:
        proc = subprocess.Popen([sys.executable, "-m", "nbu_push"],
                                env=sim_env(sim, **pair.env, NBU_CONCURRENCY="1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        started = time.monotonic()
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert time.monotonic() - started < 5
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    pair.after = parse(pair.textfile.read_text())
    pair.pushed_after = pair.pushed()
    assert sorted(os.listdir(tmp_path)) == ["lock", "nbu_push.prom"]
    assert_no_secret(stdout, stderr)
    for values in (pair.after, pair.pushed_after):
        assert collector_success(values)["jobs"] == 0
        assert values[("nbu_push_success", ())] == 0
    assert data_of(pair.after, "jobs") == data_of(pair.before, "jobs")


def test_deadline_publishes_what_completed(tmp_path, gateway):
    """The jobs read before the deadline are published, behind a watermark that says so;
    the next run continues (tests/test_run_state.py)."""
    pair = Pair(tmp_path, gateway)
    with Simulator(jobs=3000, seed=2, api_key=SECRET_KEY,
                   faults=Faults(latency_ms=200)) as sim:
        started = time.monotonic()
        result = pair.faulty(sim, NBU_DEADLINE="2s", NBU_CONCURRENCY="1")
    assert time.monotonic() - started < 8
    assert result.code == 0, result.stderr
    assert "when the run ended" in result.stderr and "deadline" in result.stderr
    for values in (pair.after, pair.pushed_after):
        assert collector_success(values) == OK
        assert values[("nbu_jobs_backfill_in_progress", ())] == 1
        read_until = values[("nbu_jobs_read_until_timestamp_seconds", ())]
        assert read_until < time.time() - 300  # stopped well behind now - settle
        assert family(values, "nbu_jobs_finished_total") == {}


def test_overlapping_runs_exit_75_at_once(tmp_path, simulator):
    lock = tmp_path / "nbu.lock"
    textfile = tmp_path / "nbu_push.prom"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = nbu_push(env=sim_env(simulator, NBU_LOCK_FILE=str(lock),
                                      NBU_PUSH_TEXTFILE=str(textfile)))
    assert result.code == 75
    assert "another nbu-push run holds" in result.stderr
    assert not textfile.exists()
    assert nbu_push(env=sim_env(simulator, NBU_LOCK_FILE=str(lock),
                                NBU_PUSH_TEXTFILE=str(textfile))).code == 0


@pytest.mark.parametrize("mode,warned", [(0o600, False), (0o640, False), (0o644, True),
                                         (0o660, True)])
def test_env_file_readable_by_others_is_warned(tmp_path, simulator, mode, warned):
    env_file = tmp_path / "nbu.env"
    env_file.write_text(f"NBU_API_KEY={simulator.api_key}\n")
    env_file.chmod(mode)
    env = clean_env(NBU_URL=simulator.url, NBU_PUSH_ENV_FILE=str(env_file))
    result = nbu_push("--dry-run", env=env)
    assert result.code == 0, result.stderr
    assert ("readable by others or writable by its group" in result.stderr) == warned
    assert simulator.api_key not in result.stderr


def test_secrets_never_in_dry_run_or_debug_logs(tmp_path):
    with Simulator(jobs=JOBS, api_key=SECRET_KEY) as sim:
        result = nbu_push("--dry-run", "--log-level", "debug", "--log-format", "json",
                          env=sim_env(sim, PUSHGATEWAY_PASSWORD=PG_PASSWORD,
                                      PUSHGATEWAY_USERNAME="u",
                                      PUSHGATEWAY_URL=f"http://127.0.0.1:{free_port()}"))
    assert result.code == 0
    assert_no_secret(result.output)


def test_a_partial_run_leaves_no_stale_series_on_the_gateway(tmp_path, gateway):
    """A collector that succeeds with no series while another fails: the gateway drops the
    quiet collector's old series, as the textfile does, and keeps the failed one's data."""
    pair = Pair(tmp_path, gateway)
    assert family(pair.pushed_before, "nbu_storage_unit_") != {}
    with Simulator(jobs=JOBS, seed=2, units=0, api_key=SECRET_KEY,
                   faults=Faults(always_503=True, path="/admin/jobs")) as sim:
        result = pair.faulty(sim)
    assert result.code == 3, result.stderr
    for after, before in ((pair.after, pair.before), (pair.pushed_after, pair.pushed_before)):
        assert family(after, "nbu_storage_unit_") == {}  # none now: none published
        assert data_of(after, "jobs") == data_of(before, "jobs") != {}  # kept
    assert {k: v for k, v in pair.pushed_after.items() if k[0] != "nbu_push_duration_seconds"} \
        == {k: v for k, v in pair.after.items() if k[0] != "nbu_push_duration_seconds"}
