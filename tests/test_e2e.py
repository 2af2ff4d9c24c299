"""End to end on real components: the numbers that reach Prometheus are the true ones.

simulator (8 000 jobs, > 50 pages) -> nbu-push -> Pushgateway -> Prometheus (honor_labels)
simulator -> nbu-push --textfile -> node_exporter
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.simulator import Simulator
from nbu_push.simulator.endpoints.alerts import add_alert

from .cli import nbu_push, sim_env
from .conftest import REPO, free_port, require_binary, stop, wait_ready
from .truth import expected_series
from .truth.jobs import window_tally

JOBS = 8000


@pytest.fixture(scope="module")
def big_simulator() -> Iterator[Simulator]:
    with Simulator(jobs=JOBS, units=15, seed=7) as sim:
        yield sim


@pytest.fixture
def prometheus(tmp_path, pushgateway) -> Iterator[str]:
    binary = require_binary("prometheus")
    promtool = require_binary("promtool")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{pushgateway.url.removeprefix('http://')}']\n")
    subprocess.run([promtool, "check", "config", str(config)], check=True,
                   capture_output=True)
    port = free_port()
    log = tmp_path / "prometheus.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=handle)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/-/ready", proc, log)
    yield url
    stop(proc)


def query(prometheus: str, promql: str) -> list[dict]:
    response = requests.get(prometheus + "/api/v1/query", params={"query": promql}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def wait_for(prometheus: str, promql: str, budget: float = 40.0) -> list[dict]:
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        result = query(prometheus, promql)
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"Prometheus never returned {promql}")


def by_label(result: list[dict], label: str) -> dict[str, float]:
    return {series["metric"][label]: float(series["value"][1]) for series in result}


def test_prometheus_sees_the_true_totals(gateway, prometheus, big_simulator):
    result = nbu_push(env=sim_env(big_simulator, PUSHGATEWAY_URL=gateway.url,
                                  NBU_SITE="e2e"))
    assert result.code == 0, result.stderr
    truth = window_tally(big_simulator, 3600)
    [success] = wait_for(prometheus, 'nbu_push_success{job="nbu-push",site="e2e"}')
    assert success["value"][1] == "1"
    assert "instance" not in success["metric"] or success["metric"]["instance"] == ""

    pages = by_label(query(prometheus, "nbu_push_api_requests"), "collector")
    assert pages["jobs"] > 50
    [finished] = query(prometheus, "sum(nbu_jobs_finished)")
    assert float(finished["value"][1]) == sum(truth.finished.values())
    [failed] = query(prometheus, 'sum(nbu_jobs_finished{status!~"0|1"})')
    assert float(failed["value"][1]) == truth.failed() > 0
    transferred = by_label(query(prometheus, "sum by (job_type) (nbu_jobs_transferred_bytes)"),
                           "job_type")
    assert transferred == {k: float(v) for k, v in truth.bytes_by_job_type().items()}
    free = by_label(query(prometheus, "nbu_storage_unit_free_bytes"), "storage_unit")
    assert free == {u.name: float(u.free) for u in big_simulator.dataset.units
                    if u.free is not None}
    assert len(free) < len(big_simulator.dataset.units)  # cloud and tape: absent, not 0


def test_node_exporter_sees_the_true_totals(node_exporter, big_simulator):
    server, directory = node_exporter
    path = directory / "nbu_push.prom"
    result = nbu_push(env=sim_env(big_simulator, NBU_PUSH_TEXTFILE=str(path)))
    assert result.code == 0, result.stderr
    text = requests.get(server.url + "/metrics", timeout=5).text
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    truth = window_tally(big_simulator, 3600)
    [error] = [s.value for s in samples if s.name == "node_textfile_scrape_error"]
    assert error == 0
    failed = sum(s.value for s in samples if s.name == "nbu_jobs_finished"
                 and int(s.labels["status"]) > 1)
    assert failed == truth.failed()
    transferred: dict[str, float] = {}
    for s in samples:
        if s.name == "nbu_jobs_transferred_bytes":
            job_type = s.labels["job_type"]
            transferred[job_type] = transferred.get(job_type, 0) + s.value
    assert transferred == truth.bytes_by_job_type()
    files = sum(s.value for s in samples if s.name == "nbu_jobs_transferred_files")
    assert files == sum(truth.files.values())


def alert_expressions() -> dict[str, str]:
    """Each shipped alert's expression by its name."""
    return {rule["alert"]: rule["expr"] for group in yaml.safe_load(
        (REPO / "prometheus" / "nbu-push.rules.yml").read_text())["groups"]
        for rule in group["rules"] if "alert" in rule}


def panel_expressions(site: str) -> dict[str, str]:
    """Each dashboard panel's first query by its title, `$site` set to `site`."""
    dashboard = json.loads((REPO / "grafana" / "nbu-push.json").read_text())
    return {panel["title"]: panel["targets"][0]["expr"].replace("$site", site)
            for panel in dashboard["panels"] if panel.get("targets")}


def test_dashboard_protection_panels_evaluate_on_pushed_data(gateway, prometheus):
    """The snapshot-only and copy-freshness panels, evaluated by Prometheus on what a run
    pushed, name exactly the clients the simulator's job trees make so."""
    panels = panel_expressions(".*")
    with Simulator(jobs=60, seed=34, policy_types=[("STANDARD", 1)]) as sim:
        assert nbu_push(env=sim_env(sim, PUSHGATEWAY_URL=gateway.url, NBU_SITE="panels",
                                    NBU_STATE_FILE="off")).code == 0
        wait_for(prometheus, 'nbu_push_success{site="panels"}')
    snapshot_only = query(prometheus, panels["Clients with snapshots but no backup copy"])
    named = {series["metric"]["client"] for series in snapshot_only}
    assert named >= {"nas-snap-only.example.com", "nas-dupe-failed.example.com",
                     "vm-b.example.com", "vm-d.example.com"}
    assert not named & {"nas-late.example.com", "vm-a.example.com"}  # backed up since
    copies = query(prometheus, panels["Age of the last duplicate and replica per client"])
    assert {(s["metric"]["client"], s["metric"]["copy"]) for s in copies} >= {
        ("copies.example.com", "duplicate"), ("copies.example.com", "replicate")}


def test_tape_and_server_alerts_and_panels_evaluate_on_pushed_data(gateway, prometheus):
    """The tape and server alert expressions (their `for` aside) and dashboard panels, run by
    Prometheus on what a run pushed, name exactly what the simulator's records say."""
    rules, panels = alert_expressions(), panel_expressions("tape")
    with Simulator(jobs=60) as sim:
        assert nbu_push(env=sim_env(sim, PUSHGATEWAY_URL=gateway.url, NBU_SITE="tape",
                                    NBU_STATE_FILE="off")).code == 0
        wait_for(prometheus, 'nbu_push_success{site="tape"}')
        truth = expected_series(sim)
    drives, media = truth["tape_drives"], truth["tape_media"]

    def named(expr: str, label: str) -> set[str]:
        return {series["metric"][label] for series in query(prometheus, expr)
                if series["metric"].get("site") == "tape"}

    def where(series: dict, label: str, test) -> set[str]:
        return {dict(labels)[label] for labels, value in series.items() if test(value)}

    down = where(drives["nbu_tape_drive_up"], "drive", lambda v: v == 0) | where(
        drives["nbu_tape_drive_paths_down"], "drive", lambda v: v > 0)
    assert named(rules["NetBackupTapeDriveDown"], "drive") == down != set()
    cleaning = where(drives["nbu_tape_drive_needs_cleaning"], "drive", lambda v: v == 1)
    assert named(rules["NetBackupTapeDriveNeedsCleaning"], "drive") == cleaning != set()
    usable: dict[str, float] = {}
    for labels, count in media["nbu_tape_media"].items():
        row = dict(labels)
        if row["pool_type"] == "SCRATCH_MEDIA_POOL":
            usable[row["volume_pool"]] = usable.get(row["volume_pool"], 0) + (
                count if row["condition"] == "usable" else 0)
    assert named(rules["NetBackupScratchMediaLow"], "volume_pool") == {
        pool for pool, count in usable.items() if count < 10}
    assert named(rules["NetBackupCleaningTapesLow"], "robot") == where(
        media["nbu_tape_cleanings_remaining"], "robot", lambda v: v < 5)
    assert named(rules["NetBackupMediaServerDown"], "media_server") == {"media04.example.com"}
    assert named(rules["NetBackupStorageServerDown"], "storage_server") == {
        "msdp02.example.com"}
    scratch = query(prometheus, panels["Usable scratch media per pool"])
    assert {s["metric"]["volume_pool"]: float(s["value"][1]) for s in scratch
            if s["metric"]["site"] == "tape"} == {p: c for p, c in usable.items() if c}
    ratios = query(prometheus, panels["MSDP deduplication ratio"])
    assert {s["metric"]["storage_server"]: float(s["value"][1]) for s in ratios} == {
        dict(labels)["storage_server"]: value for labels, value
        in truth["storage_servers"]["nbu_storage_server_deduplication_ratio"].items()}


def test_security_alerts_and_panels_evaluate_on_pushed_data(gateway, prometheus, tmp_path):
    """The security alert expressions and panels, run by Prometheus on three pushed runs with
    a state (ERROR alerts created after the first), equal what the simulator's records say."""
    rules, panels = alert_expressions(), panel_expressions("sec")
    with Simulator(jobs=60) as sim:
        env = sim_env(sim, PUSHGATEWAY_URL=gateway.url, NBU_SITE="sec",
                      NBU_STATE_FILE=str(tmp_path / "state.json"))
        seen = 0.0
        for run in range(3):
            assert nbu_push(env=env).code == 0
            if run == 0:
                for _ in range(30):
                    add_alert(sim, "ERROR")
            seen = float(wait_for(prometheus, 'nbu_push_last_run_timestamp_seconds{site="sec"}'
                                  f' > {seen}')[0]["value"][1])  # Prometheus has this run
            time.sleep(1.5)  # and a second scrape of it
        truth = expected_series(sim)

    def value(expr: str) -> float | None:
        found = [float(s["value"][1]) for s in query(prometheus, expr)
                 if s["metric"].get("site", "sec") == "sec"]
        return found[0] if found else None

    high = truth["anomalies"]["nbu_anomalies_open"][(("severity", "HIGH"),)]
    assert value(rules["NetBackupAnomaliesOpen"]) == (high or None)
    impacted = truth["malware"]["nbu_malware_latest_scan_images"][(("result", "IMPACTED"),)]
    assert value(rules["NetBackupMalwareImpactedImages"]) == (impacted or None)
    assert value(panels["Images whose latest scan found malware"]) == impacted
    expiring = truth["certificates"]["nbu_certificates_expiring"][(("within", "30d"),)]
    assert value(rules["NetBackupCertificatesExpiring"]) == (expiring or None)
    assert value(rules["NetBackupCaCertificateExpiring"]) is not None  # the CA: 80 days
    burst = value(rules["NetBackupErrorAlertsBurst"])
    assert burst is not None and burst >= 30  # 0, then 30 new ERROR alerts (extrapolated)
    assert value(panels["Host certificates expiring within 30 days"]) == expiring
