"""The backlog and capacity collectors against the simulator: paging, bounds, 403, 404,
malformed records. Truth comes from the simulator's own records (simulator/data.py)."""

from __future__ import annotations

import pytest

from nbu_push.collect import collectors, licensing, slp_backlog
from nbu_push.collect.base import CollectContext
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator import Faults, Simulator

from .cli import nbu_push, sim_env
from .truth import expected_series, series
from .truth.slp_backlog import backlog

NEW = ("job_states", "slp_backlog", "disk_pools", "licensing", "catalog_backup")


def client_for(sim: Simulator) -> NetBackupClient:
    client = NetBackupClient(sim.url)
    client.set_credential(sim.api_key)
    client.api_version = "14.0"
    return client


def published(summary_name: str, data: object) -> dict[str, dict]:
    """A collector's families rendered from its summary, in the truth's shape."""
    found: dict[str, dict] = {}
    for family in collectors()[summary_name].families:
        found[family.name] = {tuple(sorted(zip(family.labels, values, strict=True))): value
                              for values, value in family.samples(data)}
    return found


def run_collector(name: str, sim: Simulator) -> tuple[object, CollectorStats]:
    stats = CollectorStats()
    data = collectors()[name].collect(client_for(sim), CollectContext(now=0, stats=stats))
    return data, stats


def test_disk_pools_read_every_page():
    with Simulator(jobs=10, units=1200) as sim:
        data, stats = run_collector("disk_pools", sim)
        expected = expected_series(sim)["disk_pools"]
    assert len(sim.dataset.pools) > 500 and stats.pages == 2  # page[limit] is 500
    assert published("disk_pools", data) == expected


def test_slp_backlog_reads_every_page_of_every_state():
    with Simulator(jobs=10, slp_images=9000) as sim:
        data, stats = run_collector("slp_backlog", sim)
        expected = expected_series(sim)["slp_backlog"]
    assert stats.pages >= 8  # four states, at least two pages each
    assert published("slp_backlog", data) == expected
    assert set(expected["nbu_slp_backlog_complete"].values()) == {1.0}


def test_slp_backlog_stops_at_its_bound_and_says_so(monkeypatch):
    monkeypatch.setattr(slp_backlog, "MAX_PAGES_PER_STATE", 1)
    with Simulator(jobs=10, slp_images=9000) as sim:
        data, stats = run_collector("slp_backlog", sim)
        expected = backlog(sim.dataset.slp_images, read_limit=slp_backlog.PAGE_LIMIT)
    assert stats.pages == 4
    assert published("slp_backlog", data) == expected
    assert set(expected["nbu_slp_backlog_complete"].values()) == {0.0}


def test_licensing_pages_without_pagination_meta(monkeypatch):
    monkeypatch.setattr(licensing, "PAGE_LIMIT", 2)
    with Simulator(jobs=10) as sim:
        data, stats = run_collector("licensing", sim)
        expected = expected_series(sim)["licensing"]
    assert stats.pages == 4  # capacity: 1 page (it has a count); entitlements: 2, 1, 0
    assert published("licensing", data) == expected


def test_licensing_404_on_an_older_release_is_no_failure():
    with Simulator(jobs=200, licensing=False) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 0, result.stderr
    values = series(result.stdout)
    assert values["nbu_push_collector_success"][(("collector", "licensing"),)] == 1
    assert not [name for name in values if name.startswith("nbu_license_")]
    assert "licensing: this primary does not offer GET /licensing/capacity" in result.stderr


@pytest.mark.parametrize("collector,path,query", [
    ("disk_pools", "/storage/disk-pools", ""),
    ("slp_backlog", "/catalog/slp-images", ""),
    ("licensing", "/licensing", ""),
    ("catalog_backup", "/admin/jobs", "NBU_CATALOG"),
    ("job_states", "/admin/jobs", "state eq 'ACTIVE'"),
])
def test_403_fails_only_that_collector_and_names_the_permission(collector, path, query):
    with Simulator(jobs=300, faults=Faults(forbidden=True, path=path, query=query)) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 3, result.stderr
    success = {labels[0][1]: v for labels, v in
               series(result.stdout)["nbu_push_collector_success"].items()}
    assert success == {name: float(name != collector) for name in collectors()}
    assert f"collector {collector} failed" in result.stderr and "HTTP 403" in result.stderr
    assert collectors()[collector].permission in result.stderr
    assert "Traceback" not in result.stderr


def test_collectors_can_be_chosen():
    with Simulator(jobs=300) as sim:
        result = nbu_push("--dry-run", "--collectors", "disk_pools, jobs", env=sim_env(sim))
        requests = {r.path for r in sim.requests}
    assert result.code == 0, result.stderr
    values = series(result.stdout)
    assert set(values["nbu_push_collector_success"]) == {
        (("collector", "disk_pools"),), (("collector", "jobs"),)}
    assert "nbu_storage_unit_free_bytes" not in values
    assert "/storage/storage-units" not in requests and "/catalog/slp-images" not in requests


def test_an_unknown_collector_is_a_configuration_error():
    with Simulator(jobs=10) as sim:
        result = nbu_push("--dry-run", "--collectors", "jobs,tapes", env=sim_env(sim))
        sent = len(sim.requests)
    assert result.code == 78 and "NBU_COLLECTORS: unknown tapes" in result.stderr
    assert sent == 0


MALFORMED = [
    ("disk_pools", "/storage/disk-pools",
     {"data": [{"attributes": {"name": "dp-1", "usableSizeBytes": 10, "highWaterMark": 98}},
               {"id": "x"}, "not a record", {"attributes": {"name": ""}}],
      "meta": {"pagination": {"count": 4}}},
     3, {"nbu_disk_pool_usable_bytes": {(("disk_pool", "dp-1"),
                                         ("storage_server_type", "unknown")): 10}}),
    ("licensing", "/licensing/entitlements",
     {"data": [{"id": "E1", "attributes": {"licenseMeter": "FETB", "licenseCount": "2"}},
               {"attributes": {"status": "ACTIVE"}}, 7]},
     2, {"nbu_license_entitled_capacity_bytes": {
         (("entitlement", "E1"), ("license_type", "unknown"), ("meter", "FETB")): 2 * 2**40}}),
    ("slp_backlog", "/catalog/slp-images",
     {"data": [{"attributes": {"slpName": "s1", "backupTime": "2026-01-01T00:00:00.000Z"}},
               {"attributes": {"backupTime": "2026-01-01T00:00:00.000Z"}}, []],
      "meta": {"pagination": {}}},
     2 * 4, {"nbu_slp_backlog_images": {(("slp", "s1"), ("state", s)): 1
                                        for s in slp_backlog.BACKLOG_STATES}}),
]


@pytest.mark.parametrize("name,path,page,skipped,expected", MALFORMED,
                         ids=[row[0] for row in MALFORMED])
def test_malformed_records_are_skipped_and_counted(requests_mock, name, path, page, skipped,
                                                   expected):
    base = "https://nbu:1556/netbackup"
    requests_mock.get(base + path, json=lambda request, context: (
        page if request.qs.get("page[offset]", ["0"]) == ["0"] else {**page, "data": []}))
    requests_mock.get(base + "/licensing/capacity", json={"data": []})
    client = NetBackupClient(base)
    client.set_credential("key")
    client.api_version = "14.0"
    stats = CollectorStats()
    data = collectors()[name].collect(client, CollectContext(now=0, stats=stats))
    assert stats.skipped == skipped
    rendered = published(name, data)
    for family, values in expected.items():
        assert rendered[family] == values


@pytest.mark.parametrize("name", ["job_states", "catalog_backup"])
def test_a_record_without_attributes_is_skipped_not_zero(requests_mock, name):
    base = "https://nbu:1556/netbackup"
    requests_mock.get(base + "/admin/jobs", json={"data": [{"id": "1"}], "meta": {}})
    requests_mock.post(base + "/admin/jobs-count-requests",
                       json={"data": {"attributes": {"count": 1}}})
    client = NetBackupClient(base)
    client.set_credential("key")
    client.api_version = "14.0"
    stats = CollectorStats()
    data = collectors()[name].collect(client, CollectContext(now=0, stats=stats))
    rendered = published(name, data)
    timestamps = [f for f in rendered if f.endswith("_timestamp_seconds")]
    assert timestamps and all(rendered[f] == {} for f in timestamps)
    assert stats.skipped >= 1


def test_every_new_collector_is_on_by_default():
    assert set(NEW) <= set(collectors())
