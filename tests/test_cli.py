"""The CLI as a process: exit codes, one-line errors, precedence, secrets, partial runs."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.simulator import Faults, Simulator

from .cli import clean_env, nbu_push, sim_env
from .truth.jobs import window_tally

PUBLIC_ENV = ["NBU_URL", "NBU_API_KEY", "NBU_API_KEY_FILE", "NBU_USERNAME", "NBU_PASSWORD",
              "NBU_DOMAIN_TYPE", "NBU_DOMAIN_NAME", "NBU_API_VERSION", "NBU_CA_BUNDLE",
              "NBU_INSECURE", "NBU_TIMEOUT", "NBU_JOB_WINDOW", "NBU_SITE", "PUSHGATEWAY_URL",
              "PUSHGATEWAY_JOB", "PUSHGATEWAY_USERNAME", "PUSHGATEWAY_PASSWORD",
              "PUSHGATEWAY_TOKEN", "NBU_PUSH_TEXTFILE", "NBU_PUSH_LOG_FORMAT"]


def samples(stdout: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(stdout):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "site"))
            out[(sample.name, labels)] = sample.value
    return out


def assert_one_line_error(result, code, text):
    assert result.code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and text in errors[0], result.stderr


def test_help_lists_every_public_environment_variable():
    result = nbu_push("--help")
    assert result.code == 0
    for name in PUBLIC_ENV:
        assert name in result.stdout, name
    assert "78" in result.stdout and "75" in result.stdout  # the exit-code table


def test_no_output_is_a_configuration_error():
    result = nbu_push(env=clean_env(NBU_URL="nbu", NBU_API_KEY="k"))
    assert_one_line_error(result, 78, "no output")


@pytest.mark.parametrize("env,text", [
    ({"NBU_URL": "http://"}, "NBU_URL"),
    ({"NBU_API_KEY": ""}, "no NetBackup credentials"),
    ({"NBU_API_KEY": "", "NBU_API_KEY_FILE": "/nonexistent"}, "NBU_API_KEY_FILE"),
    ({"NBU_PUSH_LOG_FORMAT": "xml"}, "NBU_PUSH_LOG_FORMAT"),
    ({"NBU_JOB_WINDOW": "yesterday"}, "NBU_JOB_WINDOW"),
    ({"NBU_PUSH_ENV_FILE": "/nonexistent.env"}, "--env-file"),
])
def test_bad_configuration_exits_78_with_one_line(env, text):
    base = {"NBU_URL": "nbu.example.com", "NBU_API_KEY": "k", "NBU_PUSH_DRY_RUN": "1"}
    base.update(env)
    result = nbu_push(env=clean_env(**base))
    assert_one_line_error(result, 78, text)
    assert result.stdout == ""


def test_dry_run_against_the_simulator(simulator):
    result = nbu_push("--dry-run", env=sim_env(simulator))
    assert result.code == 0, result.stderr
    values = samples(result.stdout)
    truth = window_tally(simulator, 3600)
    assert values[("nbu_push_success", ())] == 1
    assert sum(v for (name, _), v in values.items() if name == "nbu_jobs_finished") == sum(
        truth.finished.values())
    assert "run success" in result.stderr


def test_precedence_flag_over_environment_over_env_file(simulator, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("NBU_SITE=from-file\nNBU_JOB_WINDOW=2h\n")
    env_file.chmod(0o600)
    env = clean_env(NBU_URL=simulator.url, NBU_API_KEY=simulator.api_key)

    def site_and_window(*args, **extra):
        result = nbu_push("--dry-run", *args, env={**env, **extra}, cwd=str(tmp_path))
        assert result.code == 0, result.stderr
        family = {f.name: f for f in text_string_to_metric_families(result.stdout)}
        sample = family["nbu_jobs_window_seconds"].samples[0]
        return sample.labels["site"], sample.value

    assert site_and_window() == ("from-file", 7200)  # ./.env is read by default
    assert site_and_window(NBU_SITE="from-env") == ("from-env", 7200)
    assert site_and_window("--site", "from-flag", NBU_SITE="from-env") == ("from-flag", 7200)


def test_partial_failure_publishes_the_healthy_collector():
    with Simulator(jobs=300, faults=Faults(always_503=True, path="/storage")) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 3, result.stderr
    values = samples(result.stdout)
    assert values[("nbu_push_collector_success", (("collector", "jobs"),))] == 1
    assert values[("nbu_push_collector_success", (("collector", "storage"),))] == 0
    assert values[("nbu_push_success", ())] == 0
    names = {name for name, _ in values}
    assert "nbu_jobs_finished" in names
    assert "nbu_storage_unit_free_bytes" not in names
    assert "nbu_push_last_success_timestamp_seconds" not in names
    assert "collector storage failed" in result.stderr and "HTTP 503" in result.stderr


def test_wrong_api_key_fails_with_exit_1_and_no_secret():
    secret = "WRONG-KEY-0123456789abcdef"
    with Simulator(jobs=10) as sim:
        result = nbu_push("--dry-run", "--log-level", "debug",
                          env=sim_env(sim, NBU_API_KEY=secret))
    assert result.code == 1, result.output
    assert "HTTP 401" in result.stderr
    assert secret not in result.output


def test_unreachable_server_is_temporary():
    result = nbu_push("--dry-run", "--timeout", "1s",
                      env=clean_env(NBU_URL="http://127.0.0.1:9", NBU_API_KEY="k"))
    assert result.code == 75, result.output
    assert "Traceback" not in result.output


def test_json_logs_are_one_object_per_line(simulator):
    result = nbu_push("--dry-run", "--log-format", "json", env=sim_env(simulator))
    assert result.code == 0
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    summary = entries[-1]
    assert summary["level"] == "info" and summary["exit_code"] == 0
    assert summary["site"] == "test-site" and "duration_seconds" in summary


def test_login_secrets_never_appear(tmp_path):
    with Simulator(jobs=50, password="Pass-Word-Secret-42") as sim:
        pw_file = tmp_path / "pw"
        pw_file.write_text(sim.password)
        env = clean_env(NBU_URL=sim.url, NBU_USERNAME=sim.username,
                        NBU_PASSWORD_FILE=str(pw_file))
        result = nbu_push("--dry-run", "--log-level", "debug", env=env)
        tokens = set(sim.state.tokens)
    assert result.code == 0, result.stderr
    assert "Pass-Word-Secret-42" not in result.output
    assert not sim.state.tokens  # logged out
    assert [r.path for r in sim.requests].count("/logout") == 1
    for token in tokens:
        assert token not in result.output


def test_demo_prints_the_simulators_exposition():
    result = nbu_push("--demo", "--dry-run", env=clean_env())
    assert result.code == 0, result.stderr
    values = samples(result.stdout)
    assert values[("nbu_push_success", ())] == 1
    assert sum(v for (name, _), v in values.items() if name == "nbu_jobs_finished") > 3000
    assert 'site="demo"' in result.stdout


def test_conflicting_credentials_are_a_configuration_error():
    result = nbu_push("--dry-run", env=clean_env(NBU_URL="nbu", NBU_API_KEY="k",
                                                 NBU_USERNAME="u", NBU_PASSWORD="p"))
    assert_one_line_error(result, 78, "NBU_API_KEY and NBU_USERNAME")


def test_gzip_responses_are_accepted():
    with Simulator(jobs=500, compress=True) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
        truth = window_tally(sim, 3600)
    assert result.code == 0, result.stderr
    values = samples(result.stdout)
    assert sum(v for (name, _), v in values.items() if name == "nbu_jobs_finished") == sum(
        truth.finished.values())
    assert sim.state.gzipped >= 4  # the job pages really were compressed
