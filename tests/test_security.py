"""Anomalies, malware scans, NetBackup alerts and certificates: through real runs against the
simulator (truth from tests/truth/), the requests they cost, the alerts counter over runs,
404 and 403, and lenient reading."""

from __future__ import annotations

import json
import math
import urllib.parse

import msgspec
import pytest

from nbu_push.collect import collectors
from nbu_push.collect.alerts import AlertLedger, AlertRecord
from nbu_push.collect.certificates import host_expiry
from nbu_push.simulator import Faults, Simulator
from nbu_push.simulator.endpoints.alerts import add_alert

from .cli import failed_alone, nbu_push, sim_env
from .truth import expected, series

SECURITY = ("anomalies", "malware", "alerts", "certificates")


def families_of(*names: str) -> set[str]:
    return {family.name for name in names for family in collectors()[name].families}


def queries(sim: Simulator, path: str) -> list[dict[str, str]]:
    return [{urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in
             (item.partition("=") for item in r.raw_query.split("&") if item)}
            for r in sim.requests if r.path == path]


def test_gauges_equal_the_truth_at_one_count_request_each():
    with Simulator(jobs=60) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
        anomalies = queries(sim, "/security/anomalies")
        malware = queries(sim, "/malware/latest-scan-results")
    assert result.code == 0, result.stderr
    published = series(result.stdout)
    truth = expected(sim, published)
    for name in ("anomalies", "malware", "certificates"):
        for family, values in truth[name].items():
            assert values and published[family] == values, family
    assert published["nbu_anomalies_open"][(("severity", "LOW"),)] == 0  # 0 is published
    assert sorted(q["filter"] for q in anomalies) == sorted(
        f"anomalyStatus eq 'NOT_REVIEWED' and anomalySeverity eq '{s}'"
        for s in ("HIGH", "MEDIUM", "LOW"))
    assert {q["page[limit]"] for q in anomalies} == {"1"}
    assert len(malware) == 4 and {q["page[limit]"] for q in malware} == {"0"}


def test_the_alerts_counter_counts_each_new_alert_once(tmp_path):
    """A first run marks where counting starts; alerts added later are counted once each, a
    new label set from the run after the one that first saw it; the history never."""
    textfile = tmp_path / "out.prom"
    with Simulator(jobs=60) as sim:
        env = sim_env(sim, NBU_STATE_FILE=str(tmp_path / "state.json"),
                      NBU_PUSH_TEXTFILE=str(textfile), NBU_COLLECTORS="alerts")
        history = len(sim.records["alerts"]["alerts"])

        def run() -> tuple[dict, int]:
            sim.requests.clear()
            result = nbu_push(env=env)
            assert result.code == 0, result.stderr
            return series(textfile.read_text()), len(queries(sim, "/manage/alerts"))

        first, first_requests = run()
        for n in range(130):
            add_alert(sim, "ERROR" if n % 3 else "WARNING")
        second, second_requests = run()
        for _ in range(5):
            add_alert(sim, "ERROR")
        third, third_requests = run()
        fourth, fourth_requests = run()
        truth = expected(sim, fourth)["alerts"]["nbu_alerts_total"]
    assert first.get("nbu_alerts_total", {}) == {} and first_requests == 1
    assert set(second["nbu_alerts_total"].values()) == {0.0}  # new label sets: 0 first
    assert second_requests == math.ceil(130 / 100)  # only the new alerts, page by page
    assert third["nbu_alerts_total"] == fourth["nbu_alerts_total"] == truth
    assert sum(truth.values()) == 135 == len(sim.records["alerts"]["alerts"]) - history
    assert third_requests == fourth_requests == 1


def test_a_damaged_alerts_state_starts_counting_afresh():
    assert AlertLedger.from_json({"mark": -1, "counts": [], "pending": []}) is None
    assert AlertLedger.from_json({"mark": 5, "counts": [["ERROR", "JOB"]],
                                  "pending": []}) is None
    kept = AlertLedger(7, {("ERROR", "JOB"): 3}, {("INFO", "JOB"): 1})
    assert AlertLedger.from_json(json.loads(json.dumps(kept.to_json()))) == kept


def test_alerts_without_an_id_are_skipped_and_old_ones_not_recounted():
    ledger = AlertLedger(10, {("ERROR", "JOB"): 1})
    records = msgspec.json.decode(json.dumps([
        {"id": "11", "attributes": {"severity": "error", "category": "JOB"}},
        {"id": "9", "attributes": {"severity": "ERROR", "category": "JOB"}},
        {"id": "x", "attributes": {}}, {"attributes": {}},
        {"id": 12, "attributes": {"severity": "INFO"}}]).encode(), type=list[AlertRecord])
    assert ledger.add(records) == 2
    assert ledger.counts == {("ERROR", "JOB"): 2}
    assert ledger.pending == {("INFO", "UNKNOWN"): 1} and ledger.mark == 12


@pytest.mark.parametrize("item,expiry", [
    ({"state": 1, "notAfter": 1_800_000_000_000, "isCertDeleted": False}, 1_800_000_000.0),
    ({"state": 2, "notAfter": 1_800_000_000_000}, None),
    ({"state": 1, "notAfter": 1_800_000_000_000, "isCertDeleted": True}, None),
    ({"state": "1", "notAfter": "1800000000000"}, 1_800_000_000.0),
    ({"state": 1, "notAfter": None}, None), ({"state": 1, "notAfter": -5}, None), ("junk", None),
])
def test_host_certificates_are_read_leniently(item, expiry):
    assert host_expiry(item) == expiry


def test_a_release_without_the_apis_has_no_security_series_and_succeeds():
    absent = ("/security/anomalies", "/malware", "/manage/alerts", "/security/certificates",
              "/security/certificate-authorities")
    with Simulator(jobs=60, absent=absent) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 0, result.stderr
    assert not families_of(*SECURITY) & set(series(result.stdout))
    assert "malware: this primary does not offer GET /malware/latest-scan-results" \
        in result.stderr


def test_before_11_0_only_the_ca_is_published():
    with Simulator(jobs=60, absent=("/security/certificates",)) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 0, result.stderr
    published = series(result.stdout)
    assert "nbu_ca_certificate_expiry_timestamp_seconds" in published
    assert not {"nbu_certificates_expiring",
                "nbu_certificate_earliest_expiry_timestamp_seconds"} & set(published)


@pytest.mark.parametrize("collector,path", [
    ("malware", "/malware/latest-scan-results"), ("anomalies", "/security/anomalies"),
    ("alerts", "/manage/alerts"), ("certificates", "/security/certificates"),
])
def test_a_missing_permission_fails_that_collector_only(collector, path):
    with Simulator(jobs=60, faults=Faults(forbidden=True, path=path)) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    published = failed_alone(result, collector)
    others = families_of(*(n for n in ("anomalies", "malware", "certificates")
                           if n != collector))
    assert others <= set(published)


def test_the_ca_list_is_read_without_credentials():
    with Simulator(jobs=20) as sim:
        assert nbu_push("--dry-run", env=sim_env(sim)).code == 0
        sent = [r for r in sim.requests if r.path == "/security/certificate-authorities"]
    assert sent and all("Authorization" not in r.headers for r in sent)


def test_a_first_run_whose_newest_alert_has_no_id_fails_rather_than_count_the_past(
        requests_mock):
    """A mark of 0 would count every alert of the primary's history on the next run."""
    from nbu_push.collect.alerts import collect_alerts
    from nbu_push.collect.base import CollectContext
    from nbu_push.netbackup.client import NetBackupClient
    from nbu_push.runtime.errors import ApiError

    base = "https://nbu:1556/netbackup"
    client = NetBackupClient(base)
    client.set_credential("key")
    client.api_version = "14.0"
    requests_mock.get(base + "/manage/alerts", json={
        "data": [{"id": "not-a-number", "attributes": {"severity": "ERROR"}}],
        "meta": {"pagination": {"count": 1}}})
    with pytest.raises(ApiError, match="no usable alertId"):
        collect_alerts(client, CollectContext(now=0))
    requests_mock.get(base + "/manage/alerts", json={"data": [],
                                                     "meta": {"pagination": {"count": 0}}})
    assert collect_alerts(client, CollectContext(now=0)).mark == 0  # none yet: all count
