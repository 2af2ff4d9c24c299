"""Is every client protected: each job shape, lookups, never backed up, retention, caps.

Runs share a state; the jobs of each shape are added to the simulator between runs and the
expected values are written out from those jobs (the simulator also states the rule on its
own, checked for every family in tests/test_collector_registry.py).
"""

from __future__ import annotations

import re
import urllib.parse

import pytest

from nbu_push.simulator import Faults, Simulator
from nbu_push.simulator.data import NEVER_BACKED_UP, OLD_CLIENT

from .cli import nbu_push
from .test_run_state import Runs, watermark

SUCCESS = "nbu_client_last_success_timestamp_seconds"
ATTEMPT = "nbu_client_last_attempt_timestamp_seconds"
STATUS = "nbu_client_last_status"
OPEN = "nbu_client_failures_since_success"
SNAPSHOT = "nbu_client_last_snapshot_timestamp_seconds"
COPY = "nbu_client_last_copy_timestamp_seconds"


def of(values: dict, family: str, client: str) -> dict[tuple[str, str], float]:
    """{(policy_name, policy_type): value} of one client."""
    found = {}
    for labels, value in values.get(family, {}).items():
        named = dict(labels)
        if named["client"] == client:
            found[(named["policy_name"], named["policy_type"])] = value
    return found


def only(values: dict, family: str, client: str) -> float:
    [value] = of(values, family, client).values()
    return value


def looked_up_clients(sim: Simulator) -> set[str]:
    return {re.search(r"clientName eq '([^']*)'", urllib.parse.unquote(r.raw_query))[1]
            for r in sim.requests if "clientName" in r.raw_query}


def test_every_job_shape_counts_as_documented(tmp_path):
    with Simulator(jobs=400, seed=21) as sim:
        runs = Runs(sim, tmp_path)
        w1 = watermark(runs.once())
        t = w1 + 1_000
        # multistream: the parent carries the verdict (one failed stream = one failure)
        parent = sim.add_job(t, client="ms01", status=13, child_count=2)
        sim.add_job(t, client="ms01", status=0, parent_id=parent.job_id)
        sim.add_job(t, client="ms01", status=13, parent_id=parent.job_id)
        # VMware: the discovery parent names the vCenter; each VM's job counts
        discovery = sim.add_job(t + 1, client="vcenter02", policy_type="VMWARE", child_count=2)
        sim.add_job(t + 1, client="vm-a", policy_type="VMWARE", parent_id=discovery.job_id)
        sim.add_job(t + 1, client="vm-b", policy_type="VMWARE", status=156,
                    parent_id=discovery.job_id)
        # a failure, then a good retry as a new job: the failure closes itself
        sim.add_job(t + 2, client="retry01", status=58)
        sim.add_job(t + 3_000, client="retry01", status=0)
        # an INCOMPLETE job (resumed below)
        incomplete = sim.add_job(t + 4, client="inc01", status=50, state="INCOMPLETE")
        # a snapshot is not a backup copy; Backup From Snapshot (SNAPDUPE) is
        sim.add_job(t + 5, client="snap01", job_type="SNAPSHOT")
        sim.add_job(t + 6, client="dupe01", job_type="SNAPDUPE")
        runs.advance(10)
        second = runs.once()
        assert only(second, OPEN, "ms01") == 1 and only(second, STATUS, "ms01") == 13
        assert of(second, SUCCESS, "ms01") == {}
        assert of(second, ATTEMPT, "vcenter02") == {}
        assert only(second, SUCCESS, "vm-a") == (t + 1) / 1000
        assert only(second, OPEN, "vm-b") == 1 and only(second, STATUS, "vm-b") == 156
        assert only(second, OPEN, "retry01") == 0 and only(second, STATUS, "retry01") == 0
        assert only(second, SUCCESS, "retry01") == (t + 3_000) / 1000
        assert only(second, OPEN, "inc01") == 1 and only(second, STATUS, "inc01") == 50
        assert of(second, SUCCESS, "snap01") == {} and of(second, ATTEMPT, "snap01") == {}
        assert only(second, SNAPSHOT, "snap01") == (t + 5) / 1000
        assert only(second, SUCCESS, "dupe01") == (t + 6) / 1000
        resumed = watermark(second) + 2_000
        sim.resume_job(incomplete, resumed, status=0)
        runs.advance(10)
        third = runs.once()
        assert only(third, OPEN, "inc01") == 0 and only(third, SUCCESS, "inc01") == resumed / 1000
        assert only(third, ATTEMPT, "ms01") == t / 1000  # unchanged: nothing new was read


def test_lookups_find_old_successes_once_and_never_backed_up_shows(tmp_path):
    with Simulator(jobs=600, seed=22) as sim:
        runs = Runs(sim, tmp_path, NBU_CLIENT_LOOKUPS="1000")
        first = runs.once()
        old = [job for job in sim.dataset.jobs if job.client == OLD_CLIENT]
        assert only(first, SUCCESS, OLD_CLIENT) == old[0].end_ms / 1000  # 40 days ago
        configured = {dict(labels)["client"] for labels in first["nbu_client_configured"]}
        succeeded = {dict(labels)["client"] for labels in first[SUCCESS]}
        assert set(NEVER_BACKED_UP) <= configured - succeeded  # the PromQL `unless`
        assert first["nbu_client_lookups_pending"] == {(): 0.0}
        looked_up = [r for r in sim.requests if "clientName" in r.raw_query]
        assert looked_up
        runs.advance(10)
        runs.once()
        again = [r for r in sim.requests if "clientName" in r.raw_query]
        assert len(again) == len(looked_up)  # each configured client is looked up once


def test_lookups_are_bounded_per_run(tmp_path):
    with Simulator(jobs=600, seed=22) as sim:
        runs = Runs(sim, tmp_path, NBU_CLIENT_LOOKUPS="1")
        first = runs.once()
        pending = first["nbu_client_lookups_pending"][()]
        assert pending >= 2  # the old client and the two never backed up, one a run
        assert len(looked_up_clients(sim)) == 1  # one request per backup job type
        runs.advance(5)
        assert runs.once()["nbu_client_lookups_pending"][()] == pending - 1


def test_clients_neither_configured_nor_seen_are_forgotten(tmp_path):
    with Simulator(jobs=300, seed=23) as sim:
        runs = Runs(sim, tmp_path, NBU_CLIENT_RETENTION="1h")
        w1 = watermark(runs.once())
        sim.add_job(w1 + 1, client="gone01.example.com")  # in no policy
        runs.advance(10)
        assert of(runs.once(), SUCCESS, "gone01.example.com")
        runs.advance(30)
        assert of(runs.once(), SUCCESS, "gone01.example.com")  # 1 h not yet passed
        runs.advance(40)
        values = runs.once()
        assert of(values, SUCCESS, "gone01.example.com") == {}
        configured_old = of(values, SUCCESS, OLD_CLIENT)  # configured: kept however old
        assert configured_old


def test_without_the_policies_permission_the_job_facts_still_publish(tmp_path):
    with Simulator(jobs=400, seed=24,
                   faults=Faults(forbidden=True, path="/config/unique-policy-clients")) as sim:
        runs = Runs(sim, tmp_path)
        result_values = runs.once(expect=3)
    success = {dict(k)["collector"]: v
               for k, v in result_values["nbu_push_collector_success"].items()}
    assert success["configured_clients"] == 0 and success["clients"] == 1
    assert result_values[SUCCESS] and "nbu_client_configured" not in result_values
    assert "nbu_client_lookups_pending" not in result_values  # unknown without the list


def pairs(values: dict) -> set[tuple]:
    """Every client and policy published, whichever per-client family shows it."""
    found = set(values[ATTEMPT]) | set(values.get(SNAPSHOT, {}))
    return found | {tuple(label for label in labels if label[0] != "copy")
                    for labels in values.get(COPY, {})}


def test_the_cap_keeps_the_clients_most_at_risk(tmp_path):
    with Simulator(jobs=600, seed=25) as sim:
        values = Runs(sim, tmp_path, NBU_MAX_SERIES="5", NBU_CLIENT_LOOKUPS="1000").once()
        everything = Runs(sim, tmp_path / "all", NBU_CLIENT_LOOKUPS="1000").once()
    kept = pairs(values)
    assert len(kept) == 5
    ranked = sorted(pairs(everything), key=lambda labels: (
        everything[SUCCESS].get(labels, 0), labels))
    assert kept == set(ranked[:5])  # never succeeded first, then the oldest success
    assert values["nbu_push_series_dropped"][(("metric", ATTEMPT),)] == len(ranked) - 5


def test_include_and_exclude_choose_the_clients(tmp_path):
    with Simulator(jobs=400, seed=26) as sim:
        values = Runs(sim, tmp_path, NBU_CLIENT_INCLUDE=r"client0\d\d\.example\.com",
                      NBU_CLIENT_EXCLUDE=r"client00\d.*").once()
    clients = {dict(labels)["client"] for labels in values[ATTEMPT]}
    configured = {dict(labels)["client"] for labels in values["nbu_client_configured"]}
    for names in (clients, configured):
        assert names and all(n.startswith("client0") and not n.startswith("client00")
                             for n in names)


def test_a_bad_client_pattern_is_a_configuration_error(tmp_path):
    with Simulator(jobs=10) as sim:
        runs = Runs(sim, tmp_path)
        result = nbu_push(env={**runs.env, "NBU_CLIENT_INCLUDE": "client(("})
    assert result.code == 78 and "NBU_CLIENT_INCLUDE" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_state_written_before_snapshots_and_copies_were_kept_is_read():
    from nbu_push.collect.clients import ClientBook

    old = {"facts": [["c1", "p", "STANDARD", 1000, 2000, "13", [2000]]], "looked_up": []}
    new = {"facts": [["c1", "p", "STANDARD", 1000, 2000, "13", [2000], 500, None, 700]],
           "looked_up": []}
    assert ClientBook.from_json(old).facts[("c1", "p", "STANDARD")].snapshot is None
    fact = ClientBook.from_json(new).facts[("c1", "p", "STANDARD")]
    assert (fact.snapshot, fact.duplicate, fact.replicate) == (500, None, 700)
    saved = ClientBook.from_json(new).to_json()
    assert [list(row) for row in saved["facts"]] == new["facts"]


@pytest.mark.parametrize("stuck", ["a look-up", "configured_clients"])
def test_a_stuck_request_loses_no_observation(stuck, tmp_path):
    """A peer that trickles bytes past the deadline and the cancel grace, in a look-up or in
    the collector the clients wait for: the jobs this run read are still in the clients'
    facts, published now and kept for the next run."""
    with Simulator(jobs=300, seed=28) as sim:
        runs = Runs(sim, tmp_path, NBU_CLIENT_LOOKUPS="1000")
        w1 = watermark(runs.once())
        sim.add_job(w1 + 1_000, client="observed01.example.com", status=0)
        sim.configured.append("never-seen01.example.com")  # a look-up for the next run
        runs.advance(10)
        sim.faults = (Faults(trickle_at=1, query="clientName", stall_seconds=20)
                      if stuck == "a look-up" else
                      Faults(trickle_at=1, path="/config/unique-policy-clients",
                             stall_seconds=20))
        sim.state.data_requests = 0  # the next matching request is the first that counts
        stuck_run = runs.once(NBU_DEADLINE="3s", expect=0 if stuck == "a look-up" else 3)
        assert stuck_run["nbu_push_collector_success"][(("collector", "clients"),)] == 1
        assert of(stuck_run, SUCCESS, "observed01.example.com")
        sim.faults = Faults()
        runs.advance(10)
        after = runs.once()
    assert of(after, SUCCESS, "observed01.example.com") == of(stuck_run, SUCCESS,
                                                             "observed01.example.com")
    assert after["nbu_client_lookups_pending"] == {(): 0.0}  # looked up this time
    assert of(after, ATTEMPT, "never-seen01.example.com") == {}  # looked up: no backup
