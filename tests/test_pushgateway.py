"""Pushing to the real Pushgateway on loopback."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests
from requests_mock import ANY

from nbu_push.collect import collectors
from nbu_push.publish.pushgateway import PushgatewaySink, group_exposition
from nbu_push.simulator import Faults, Simulator
from nbu_push.simulator.server import self_signed_certificate

from .cli import clean_env, nbu_push, sim_env
from .conftest import free_port, require_binary, stop
from .oracle import prometheus_client_text
from .truth.jobs import window_tally


def groups(gateway) -> list[dict]:
    body = requests.get(gateway.url + "/api/v1/metrics", timeout=5).json()
    assert body["status"] == "success"
    return body["data"]


def values(group: dict, name: str) -> dict[tuple, float]:
    family = group.get(name)
    if family is None:
        return {}
    grouping = ("job", "site", "instance")
    return {tuple(sorted((k, v) for k, v in m["labels"].items() if k not in grouping)):
            float(m["value"]) for m in family["metrics"]}


def test_push_is_stored_under_job_and_site(gateway, simulator):
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url,
                                  NBU_SITE="nbu/primary 01"))
    assert result.code == 0, result.stderr
    [group] = groups(gateway)
    assert group["labels"] == {"job": "nbu-push", "site": "nbu/primary 01"}
    assert group["last_push_successful"] is True
    finished = values(group, "nbu_jobs_finished")
    assert sum(finished.values()) == sum(window_tally(simulator, 3600).finished.values())
    assert values(group, "nbu_push_success") == {(): 1.0}


def test_failed_run_keeps_the_last_good_data(gateway):
    env_extra = {"PUSHGATEWAY_URL": gateway.url, "PUSHGATEWAY_JOB": "nbu"}
    with Simulator(jobs=400) as good:
        assert nbu_push(env=sim_env(good, **env_extra)).code == 0
    [before] = groups(gateway)
    with Simulator(jobs=400, faults=Faults(always_503=True)) as bad:
        result = nbu_push(env=sim_env(bad, **env_extra))
    assert result.code == 75, result.stderr
    [after] = groups(gateway)
    assert after["labels"] == {"job": "nbu", "site": "test-site"}
    assert values(after, "nbu_push_success") == {(): 0.0}
    assert values(after, "nbu_push_collector_success") == {
        (("collector", name),): 0.0 for name in collectors()}
    for kept in ("nbu_jobs_finished", "nbu_storage_unit_free_bytes",
                 "nbu_push_last_success_timestamp_seconds"):
        assert values(after, kept) == values(before, kept) != {}, kept
    run_time = "nbu_push_last_run_timestamp_seconds"
    assert values(after, run_time)[()] > values(before, run_time)[()]


def test_successful_run_replaces_stale_series(gateway):
    env_extra = {"PUSHGATEWAY_URL": gateway.url}
    with Simulator(jobs=300, units=9) as many:
        assert nbu_push(env=sim_env(many, **env_extra)).code == 0
    with Simulator(jobs=300, units=4) as few:
        assert nbu_push(env=sim_env(few, **env_extra)).code == 0
        expected = {u.name for u in few.dataset.units if u.used is not None}
    [group] = groups(gateway)
    stored = {dict(k)["storage_unit"] for k in values(group, "nbu_storage_unit_used_bytes")}
    assert stored == expected and len(expected) == 3  # the tape unit has no capacity


def streamed(lines: list[bytes], fail_after: int | None = None):
    """A payload of one chunk per line; with `fail_after`, writing it stops with an error
    after that many chunks (a bug while rendering)."""
    def chunks():
        for index, line in enumerate(lines):
            if index == fail_after:
                raise ValueError("stopped while writing")
            yield line
    return chunks


def test_a_payload_that_fails_while_written_is_never_half_pushed(gateway):
    """The gateway would store a cut-short body as whole: the body is written first."""
    sink = PushgatewaySink(gateway.url, "nbu-push", {"site": "s"})
    first = [b"# HELP nbu_a a\n# TYPE nbu_a gauge\n",
             *(b'nbu_a{n="%d"} %d\n' % (n, n) for n in range(3000))]
    sink.publish(streamed(first), complete=True)
    [group] = groups(gateway)
    assert values(group, "nbu_a") == {(("n", str(n)),): float(n) for n in range(3000)}
    second = [b"# HELP nbu_b b\n# TYPE nbu_b gauge\n", b"nbu_b 1\n", b"nbu_b 2\n"]
    for complete in (True, False):
        with pytest.raises(ValueError):
            sink.publish(streamed(second, fail_after=2), complete=complete)
        assert groups(gateway) == [group]  # nothing half-written
    sink.publish(streamed(second[:2]), complete=False)  # merged: nbu_a stays
    [merged] = groups(gateway)
    assert values(merged, "nbu_b") == {(): 1.0} and values(merged, "nbu_a") == values(group,
                                                                                      "nbu_a")


def test_pushgateway_down_is_temporary(simulator):
    dead = f"http://127.0.0.1:{free_port()}"
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=dead))
    assert result.code == 75, result.output
    assert "Traceback" not in result.output


def test_pushgateway_rejection_fails_the_run(gateway, simulator):
    result = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url + "/not-a-gateway"))
    assert result.code == 1, result.output
    assert "Pushgateway PUT" in result.stderr and "HTTP 404" in result.stderr


def test_no_sink_runs_without_configuration():
    assert nbu_push(env=clean_env(PUSHGATEWAY_URL="")).code == 78


def test_bearer_token_and_grouping_url(requests_mock):
    sink = PushgatewaySink("https://pg.example.com:9091/", "nbu-push", {"site": "a/b c"},
                           token="tok-123", verify="/etc/ca.pem")
    requests_mock.put(ANY, status_code=200)
    sink.publish(lambda: [b"x 1\n"], complete=True)
    request = requests_mock.last_request
    assert request.method == "PUT"
    assert request.url == ("https://pg.example.com:9091/metrics/job@base64/bmJ1LXB1c2g="
                           "/site@base64/YS9iIGM=")
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert request.verify == "/etc/ca.pem"
    requests_mock.get("https://pg.example.com:9091/api/v1/metrics", json={"data": [
        {"labels": {"job": "nbu-push", "site": "a/b c"},
         "kept": {"type": "GAUGE", "help": "h",
                  "metrics": [{"labels": {"job": "nbu-push", "instance": "", "site": "a/b c"},
                               "value": "7"}]},
         "x": {"type": "GAUGE", "help": "old", "metrics": [{"labels": {}, "value": "0"}]},
         "push_time_seconds": {"type": "GAUGE", "help": "", "metrics": []}},
        {"labels": {"job": "nbu-push", "site": "other"},
         "theirs": {"type": "GAUGE", "help": "", "metrics": [{"labels": {}, "value": "1"}]}}]})
    sink.publish(lambda: [b"# HELP x new\n# TYPE x gauge\nx 1\n"], complete=False)
    assert requests_mock.last_request.method == "PUT"  # the group merged: PUT, not POST
    body = requests_mock.last_request.body.decode()
    assert "x 1.0" in body or "x 1\n" in body
    assert 'kept{site="a/b c"} 7.0' in body and "theirs" not in body and "push_time" not in body
    assert body.count("# HELP x ") == 1


def test_a_gateway_that_will_not_be_read_gets_a_post(requests_mock):
    sink = PushgatewaySink("http://pg:9091", "nbu-push", {"site": "s"})
    requests_mock.get("http://pg:9091/api/v1/metrics", status_code=403)
    requests_mock.post(ANY, status_code=200)
    sink.publish(lambda: [b"x 1\n"], complete=False)
    assert requests_mock.last_request.method == "POST"


def test_https_gateway_with_its_ca_bundle(tmp_path, simulator):
    binary = require_binary("prometheus-pushgateway")
    cert, key = self_signed_certificate(str(tmp_path))
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    port = free_port()
    log = tmp_path / "pg.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}",
                                 "--persistence.file=", f"--web.config.file={web}"],
                                stdout=subprocess.DEVNULL, stderr=handle)
    try:
        url = f"https://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(url + "/-/ready", verify=cert, timeout=0.5)
                break
            except requests.RequestException:
                time.sleep(0.05)
        refused = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=url))
        assert refused.code == 1 and "TLS verification failed" in refused.stderr
        accepted = nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=url,
                                        PUSHGATEWAY_CA_BUNDLE=cert))
        assert accepted.code == 0, accepted.stderr
        stored = requests.get(url + "/api/v1/metrics", verify=cert, timeout=5).json()["data"]
        assert stored[0]["labels"]["site"] == "test-site"
    finally:
        stop(proc)


def test_delete_removes_a_retired_primarys_group(gateway, simulator):
    for site in ("old-primary", "kept-primary"):
        assert nbu_push(env=sim_env(simulator, PUSHGATEWAY_URL=gateway.url,
                                    NBU_SITE=site)).code == 0
    result = nbu_push("--delete", env=clean_env(PUSHGATEWAY_URL=gateway.url,
                                                NBU_SITE="old-primary"))
    assert result.code == 0, result.stderr
    for _ in range(50):  # the gateway applies a DELETE asynchronously
        sites = [g["labels"]["site"] for g in groups(gateway)]
        if sites == ["kept-primary"]:
            break
        time.sleep(0.1)
    assert sites == ["kept-primary"]
    assert nbu_push("--delete", env=clean_env(NBU_SITE="x")).code == 78  # no gateway named


def test_the_group_read_back_is_what_prometheus_client_would_write():
    """The read-back of a partial run goes through the project's one text writer: the same
    bytes prometheus_client writes for those families; a series that cannot be read is left
    out instead of failing the run."""
    ours = {"job": "nbu-push", "site": "p1"}
    good = [("nbu_jobs_finished_total", "COUNTER", 'finished "jobs"\\', [
        ({"job": "nbu-push", "instance": "", "site": "p1", "status": "0"}, "12"),
        ({"job": "nbu-push", "instance": "", "site": "p1", "status": "1"}, "1.5e+07")]),
        ("nbu_push_success", "GAUGE", "h", [({"job": "nbu-push", "site": "p1"}, "NaN")])]
    document = [{"labels": ours, "push_time_seconds": {"type": "GAUGE", "metrics": []},
                 **{name: {"type": kind, "help": help_text,
                           "metrics": [{"labels": labels, "value": value}
                                       for labels, value in series]}
                    for name, kind, help_text, series in good}},
                {"labels": {"job": "nbu-push", "site": "p2"},
                 "theirs": {"type": "GAUGE", "help": "", "metrics": []}}]
    expected = []
    for name, kind, help_text, series in good:
        names = sorted({k for labels, _ in series for k in labels} - {"job", "instance"})
        expected.append((name, help_text, names, [
            ([labels.get(k, "") for k in names], float(value)) for labels, value in series],
            kind == "COUNTER"))
    assert group_exposition(document, ours) == prometheus_client_text(expected)
    damaged = document[0]["nbu_push_success"]["metrics"]
    damaged += [{"labels": {"site": "p1"}, "value": "junk"}, {"value": "1"}, "not a series"]
    assert group_exposition(document, ours) == prometheus_client_text(expected)
