"""Textfiles for the real node_exporter textfile collector."""

from __future__ import annotations

import os
import stat

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from nbu_push.metrics.text import merged
from nbu_push.publish.textfile import TextfileSink
from nbu_push.runtime.errors import PublishError
from nbu_push.simulator import Faults, Simulator

from .cli import nbu_push, sim_env
from .truth.jobs import window_tally


def scrape(server) -> dict[tuple, float]:
    text = requests.get(server.url + "/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def test_node_exporter_reads_the_file(node_exporter, simulator):
    server, directory = node_exporter
    path = directory / "nbu_push.prom"
    result = nbu_push(env=sim_env(simulator, NBU_PUSH_TEXTFILE=str(path)))
    assert result.code == 0, result.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(os.listdir(directory)) == ["nbu_push.prom"]  # no temp file left
    scraped = scrape(server)
    assert scraped[("node_textfile_scrape_error", ())] == 0
    assert ("node_textfile_mtime_seconds", (("file", str(path)),)) in scraped
    finished = sum(v for (name, _), v in scraped.items() if name == "nbu_jobs_finished")
    assert finished == sum(window_tally(simulator, 3600).finished.values())


def test_failed_run_keeps_data_and_updates_status(node_exporter):
    server, directory = node_exporter
    path = directory / "nbu_push.prom"
    with Simulator(jobs=300) as good:
        assert nbu_push(env=sim_env(good, NBU_PUSH_TEXTFILE=str(path))).code == 0
    before = scrape(server)
    with Simulator(jobs=300, faults=Faults(always_503=True, path="/storage")) as bad:
        result = nbu_push(env=sim_env(bad, NBU_PUSH_TEXTFILE=str(path)))
    assert result.code == 3
    after = scrape(server)
    assert after[("node_textfile_scrape_error", ())] == 0
    assert after[("nbu_push_success", (("site", "test-site"),))] == 0
    storage = {k: v for k, v in before.items() if k[0].startswith("nbu_storage_unit")}
    assert storage and all(after[k] == v for k, v in storage.items())
    last_success = ("nbu_push_last_success_timestamp_seconds", (("site", "test-site"),))
    assert after[last_success] == before[last_success]


def test_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "nbu_push.prom"
    path.write_bytes(b"# HELP a x\n# TYPE a gauge\na 1.0\n")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(PublishError, match="No space left"):
        TextfileSink(str(path)).publish(lambda: [b"# HELP b y\n# TYPE b gauge\nb 2.0\n"],
                                        complete=True)
    assert path.read_bytes() == b"# HELP a x\n# TYPE a gauge\na 1.0\n"
    assert os.listdir(tmp_path) == ["nbu_push.prom"]


@pytest.mark.parametrize("complete", [True, False])
def test_a_payload_that_stops_while_written_leaves_the_previous_file(tmp_path, complete):
    path = tmp_path / "nbu_push.prom"
    path.write_bytes(b"# HELP a x\n# TYPE a gauge\na 1.0\n")

    def payload():
        yield b"# HELP b y\n# TYPE b gauge\n"
        raise ValueError("stopped while writing")

    with pytest.raises(ValueError):
        TextfileSink(str(path)).publish(payload, complete=complete)
    assert path.read_bytes() == b"# HELP a x\n# TYPE a gauge\na 1.0\n"
    assert os.listdir(tmp_path) == ["nbu_push.prom"]


def test_merge_replaces_whole_families_and_keeps_the_rest():
    old = (b"# HELP a old\n# TYPE a gauge\na{x=\"1\"} 1.0\na{x=\"2\"} 2.0\n"
           b"# HELP b kept\n# TYPE b gauge\nb 5.0\n")
    new = b"# HELP a new\n# TYPE a gauge\na{x=\"3\"} 3.0\n"
    text = b"".join(merged(old, [new])).decode()
    assert 'a{x="3"} 3.0' in text and 'a{x="1"}' not in text
    assert "b 5.0" in text
    assert b"".join(merged(b"garbage {{{", [new])) == new
