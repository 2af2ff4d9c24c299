"""Hostile label values survive the Pushgateway, node_exporter and promtool unchanged."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.metrics.exposition import render
from nbu_push.netbackup.jobs import JobAttributes, JobRecord
from nbu_push.report import CollectorOutcome, RunReport
from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator import Simulator

from .cli import nbu_push, sim_env
from .conftest import family_name, promtool_check
from .jobs_summary import summary_of

ODD_UNITS = ['stu "quoted"', "back\\slash", "new\nline", "ünïcødé-ストレージ", "sp ace/slash"]
ODD_POLICIES = [("WEIRD\"POLICY\\", 50), ("ポリシー", 50)]


def unit_names(text: str) -> set[str]:
    return {s.labels["storage_unit"] for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == "nbu_storage_unit_free_bytes"}


def test_odd_labels_everywhere(tmp_path, gateway, node_exporter, promtool):
    server, directory = node_exporter
    textfile = directory / "nbu_push.prom"
    with Simulator(jobs=300, units=5, unit_names=ODD_UNITS, policy_types=ODD_POLICIES,
                   job_trees=False) as sim:
        env = sim_env(sim, NBU_SITE='site "x"\\ ü', PUSHGATEWAY_URL=gateway.url,
                      NBU_PUSH_TEXTFILE=str(textfile))
        dry = nbu_push("--dry-run", env=env)
        result = nbu_push(env=env)
        expected = {u.name for u in sim.dataset.units if u.free is not None}
    assert dry.code == 0 and result.code == 0, result.stderr
    lint = promtool_check(promtool, dry.stdout.encode())
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert unit_names(dry.stdout) == expected
    scraped = requests.get(server.url + "/metrics", timeout=5).text
    assert "node_textfile_scrape_error 0" in scraped
    assert unit_names(scraped) == expected
    pushed = requests.get(gateway.url + "/metrics", timeout=5).text
    assert unit_names(pushed) == expected
    policies = {s.labels["policy_type"] for f in text_string_to_metric_families(pushed)
                for s in f.samples if s.name == "nbu_jobs_finished"}
    assert policies == {"WEIRD\"POLICY\\", "ポリシー"}


def test_cardinality_cap_keeps_the_largest_and_counts_the_rest():
    jobs = summary_of([JobRecord(JobAttributes(jobType="BACKUP", policyType="X", status=status))
                       for status in range(10) for _ in range(status + 1)])
    report = RunReport("s", 1.0, 1.0, None, [CollectorOutcome(
        "jobs", True, 1.0, CollectorStats(), jobs)], max_series=3)
    parsed = {family_name(f): f for f in text_string_to_metric_families(render(report).decode())}
    kept = {s.labels["status"] for s in parsed["nbu_jobs_finished"].samples}
    assert kept == {"7", "8", "9"}
    dropped = {s.labels["metric"]: s.value for s in parsed["nbu_push_series_dropped"].samples}
    assert dropped["nbu_jobs_finished"] == 7
    assert dropped["nbu_jobs_window_seconds"] == 0
