"""Alert and recording rules pass promtool; rules and dashboard use only metrics that exist."""

from __future__ import annotations

import json
import re
import subprocess

import yaml
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.collect import collectors

from .cli import nbu_push, sim_env
from .conftest import REPO, family_name, require_binary

RULES = REPO / "prometheus" / "nbu-push.rules.yml"
DASHBOARD = REPO / "grafana" / "nbu-push.json"
# Not nbu-push's own: added by the Pushgateway to each group, and node_exporter's textfile
# collector metrics.
EXTERNAL = {"push_time_seconds", "push_failure_time_seconds", "node_textfile_mtime_seconds",
            "node_textfile_scrape_error"}
NAME = re.compile(r"\b(nbu[_:][a-zA-Z0-9_:]*|push_[a-z_]+|node_textfile_[a-z_]+)\b")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([require_binary("promtool"), *args], capture_output=True, text=True,
                          cwd=REPO / "prometheus", timeout=60)


def test_promtool_check_rules():
    result = promtool("check", "rules", "--lint=all", "--lint-fatal", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests():
    result = promtool("test", "rules", "nbu-push.rules.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_example_config():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def recorded() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", [])]
    exprs += [var["definition"] for var in dashboard["templating"]["list"]
              if "definition" in var]
    return exprs


def test_dashboard_panels_the_issue_asks_for():
    titles = [panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"]]
    for wanted in ("Jobs by status", "Failed jobs in the last 24 hours by policy type",
                   "Bytes transferred per second by job type",
                   "Free and used bytes per storage unit",
                   "Last run succeeded", "Jobs now by state",
                   "Age of the oldest running and queued job", "SLP backlog images by SLP",
                   "Age of the oldest image waiting per SLP", "Used per disk pool",
                   "Disk pool up", "Licensed capacity used",
                   "Time to licence end per entitlement", "Since last catalog backup",
                   "Clients by age of the last good backup, worst first",
                   "Configured clients never backed up", "Tape and servers", "Tape drives up",
                   "Usable scratch media per pool", "Media servers up", "Storage servers up",
                   "Security", "Open anomalies by severity",
                   "Images whose latest scan found malware",
                   "New NetBackup alerts per hour by severity",
                   "Host certificates expiring within 30 days", "Time to CA certificate expiry"):
        assert wanted in titles


def test_every_referenced_metric_exists(simulator):
    result = nbu_push("--dry-run", env=sim_env(simulator))
    assert result.code == 0
    emitted = {family_name(f) for f in text_string_to_metric_families(result.stdout)}
    declared = {family.name for collector in collectors().values()
                for family in collector.families}  # counters appear from a second run on
    known = emitted | declared | recorded() | EXTERNAL
    referenced = {name for expr in rule_expressions() + dashboard_expressions()
                  for name in NAME.findall(re.sub(r'"[^"]*"', '""', expr))}  # not in strings
    assert referenced, "no metric names found: the extraction is broken"
    assert referenced - known == set()
    assert {"nbu_jobs_finished", "nbu_storage_unit_used_bytes",
            "nbu_push_last_success_timestamp_seconds"} <= referenced


def test_every_alert_links_a_runbook_section_that_exists():
    runbook = (REPO / "docs" / "runbook.md").read_text()
    sections = {line[3:].strip().lower() for line in runbook.splitlines()
                if line.startswith("## ")}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert alerts
    for rule in alerts:
        link = rule["annotations"].get("runbook_url", "")
        assert link == f"docs/runbook.md#{rule['alert'].lower()}", rule["alert"]
        assert rule["alert"].lower() in sections, rule["alert"]
