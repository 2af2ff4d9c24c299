"""The metric contract: names, labels, absence rules, and promtool's lint."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from nbu_push.collect.storage import StorageSummary, UnitAttributes, UnitRecord
from nbu_push.metrics.exposition import exposition, family_specs, render
from nbu_push.netbackup.jobs import JobAttributes, JobRecord
from nbu_push.report import CollectorOutcome, RunReport
from nbu_push.runtime.stats import CollectorStats

from .conftest import family_name, promtool_check
from .jobs_summary import summary_of
from .oracle import prometheus_client_text

CONTRACT = {
    "nbu_jobs_finished": ["job_type", "policy_type", "site", "status"],
    "nbu_jobs_transferred_bytes": ["job_type", "policy_type", "site", "status"],
    "nbu_jobs_window_seconds": ["site"],
    "nbu_storage_unit_free_bytes": ["site", "storage_category", "storage_type", "storage_unit"],
    "nbu_storage_unit_used_bytes": ["site", "storage_category", "storage_type", "storage_unit"],
    "nbu_storage_unit_capacity_bytes": ["site", "storage_category", "storage_type",
                                        "storage_unit"],
    "nbu_push_success": ["site"],
    "nbu_push_last_success_timestamp_seconds": ["site"],
    "nbu_push_last_run_timestamp_seconds": ["site"],
    "nbu_push_duration_seconds": ["site"],
    "nbu_push_collector_success": ["collector", "site"],
    "nbu_push_collector_duration_seconds": ["collector", "site"],
    "nbu_push_collector_cpu_seconds": ["collector", "site"],
    "nbu_push_api_version_info": ["site", "version"],
    "nbu_push_build_info": ["python_version", "site", "version"],
    "nbu_push_api_requests": ["collector", "site"],
    "nbu_push_records_read": ["collector", "site"],
}


def report(jobs_ok=True, storage_ok=True, site="nbu-primary") -> RunReport:
    jobs = summary_of([
        JobRecord(JobAttributes(jobType="BACKUP", policyType="VMWARE", status=0,
                                kilobytesTransferred=2)),
        JobRecord(JobAttributes(jobType="BACKUP", policyType="VMWARE", status=196))])
    storage = StorageSummary()
    storage.add_records([
        UnitRecord(attributes=UnitAttributes(
            name='odd "unit"\\ \n ü', storageCategory="MSDP", storageType="DISK",
            freeCapacityBytes=1, usedCapacityBytes=2, totalCapacityBytes=3)),
        UnitRecord(attributes=UnitAttributes(name="cloud", storageCategory="CLOUD"))])
    return RunReport(site, 1_767_225_600.0, 1.5, "12.0", [
        CollectorOutcome("jobs", jobs_ok, 1.0, CollectorStats(requests=3, records=2),
                         jobs if jobs_ok else None),
        CollectorOutcome("storage", storage_ok, 0.5, CollectorStats(requests=1, records=2),
                         storage if storage_ok else None),
    ])


def families(payload: bytes) -> dict:
    return {family_name(f): f for f in text_string_to_metric_families(payload.decode())}


def test_contract_names_and_labels():
    parsed = families(render(report()))
    for name, labels in CONTRACT.items():
        assert name in parsed, name
        assert parsed[name].type == "gauge"
        for sample in parsed[name].samples:
            assert sorted(sample.labels) == labels, name


def test_every_series_carries_site():
    for family in families(render(report(site="primary/01 x"))).values():
        for sample in family.samples:
            assert sample.labels["site"] == "primary/01 x"


def test_absent_values_make_no_series():
    parsed = families(render(report()))
    units = {s.labels["storage_unit"] for s in parsed["nbu_storage_unit_free_bytes"].samples}
    assert units == {'odd "unit"\\ \n ü'}  # the cloud unit has no capacity series
    statuses = {s.labels["status"] for s in parsed["nbu_jobs_transferred_bytes"].samples}
    assert statuses == {"0"}  # the job without kilobytesTransferred adds no zero


def test_failed_collector_publishes_no_data_and_no_last_success():
    parsed = families(render(report(storage_ok=False)))
    assert "nbu_storage_unit_free_bytes" not in parsed
    assert "nbu_push_last_success_timestamp_seconds" not in parsed
    assert parsed["nbu_push_success"].samples[0].value == 0
    success = {s.labels["collector"]: s.value for s in
               parsed["nbu_push_collector_success"].samples}
    assert success == {"jobs": 1, "storage": 0}


def test_promtool_accepts_the_exposition(promtool):
    for payload in (render(report()), render(report(jobs_ok=False, storage_ok=False))):
        result = promtool_check(promtool, payload)
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_timestamps_and_no_process_metrics():
    payload = render(report()).decode()
    assert "process_" not in payload and "python_gc" not in payload
    for line in payload.splitlines():
        if not line.startswith("#"):
            assert len(line.rsplit("} ", 1)[-1].split()) == 1, line


def prometheus_client_exposition(report: RunReport) -> bytes:
    """The oracle: the report's families written by prometheus_client."""
    return prometheus_client_text(
        (name, documentation, ("site", *labels),
         [((report.site, *values), value) for values, value in rows], counter)
        for name, documentation, labels, rows, counter in family_specs(report))


def test_render_writes_what_prometheus_client_writes():
    odd = report(site='site "a"\\b\nc ü')
    odd.outcomes[0].stats.bytes_received = 10**20  # Go's exponent form
    odd.outcomes[1].duration_seconds = float("nan")
    for case in (report(), odd, report(jobs_ok=False, storage_ok=False)):
        assert render(case) == prometheus_client_exposition(case)


def test_render_writes_what_prometheus_client_writes_for_a_whole_run():
    """Every collector's families, counters included, from a run against the simulator."""
    from nbu_push.config import settings_from
    from nbu_push.run import collect
    from nbu_push.runtime.deadline import Deadline
    from nbu_push.simulator import Simulator

    with Simulator(jobs=3000, units=12) as sim:
        settings = settings_from({"url": sim.url, "api_key": sim.api_key, "dry_run": True})
        whole = collect(settings, Deadline(60), 1_767_225_600.0)
    assert whole.success
    assert any(spec[4] for spec in family_specs(whole))  # counters are in it
    assert len(render(whole).splitlines()) > 1000
    assert render(whole) == prometheus_client_exposition(whole)
    # what the sinks stream: chunks of whole lines, the same bytes on every call
    chunks = list(exposition(whole))
    assert len(chunks) > 1 and all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == prometheus_client_exposition(whole)
    assert list(exposition(whole)) == chunks


def test_values_are_written_as_prometheus_client_writes_them():
    import random

    from prometheus_client.utils import floatToGoString

    from nbu_push.metrics.text import go_float

    rng = random.Random(7)
    values = [0, 1, -1, 0.5, 1e-7, 1234567.5, 12345678.0, 1e20, -1e20, 2**62, 2**63 - 1,
              True, float("inf"), float("-inf"), float("nan"), 1_767_225_600.123]
    values += [rng.uniform(-1e12, 1e12) for _ in range(2000)]
    values += [rng.randrange(10**16) for _ in range(2000)]
    values += [*range(999_990, 1_000_010), *(10**k + d for k in range(8) for d in (-1, 0, 1))]
    assert [go_float(v) for v in values] == [floatToGoString(v) for v in values]
