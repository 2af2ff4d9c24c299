"""Collectors describe themselves: the set is derived, never hard-coded.

Every declared collector's families are emitted against the simulator, equal the simulator's
independent truth, and are documented; a new collector is one file; a malformed one fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import nbu_push.collect as collect_package
from nbu_push.collect import collectors
from nbu_push.collect.base import Collector
from nbu_push.config import settings_from
from nbu_push.metrics import Family
from nbu_push.metrics.exposition import render
from nbu_push.report import CollectorOutcome, RunReport
from nbu_push.run import run
from nbu_push.runtime.errors import EXIT_PARTIAL
from nbu_push.runtime.stats import CollectorStats
from nbu_push.simulator.endpoints.alerts import add_alert

from .cli import nbu_push, sim_env
from .truth import expected, expected_series, published_ms, series

DOCS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


@pytest.fixture
def extra_collectors(tmp_path, monkeypatch) -> Iterator[Path]:
    """A folder searched for collector modules, as if its files were in nbu_push/collect/."""
    folder = tmp_path / "more_collectors"
    folder.mkdir()
    monkeypatch.setattr(collect_package, "__path__", [*collect_package.__path__, str(folder)])
    collectors.cache_clear()
    yield folder
    collectors.cache_clear()


TOY = '''
from nbu_push.collect.base import Collector
from nbu_push.metrics import Family

def collect(client, ctx):
    return dict(red=3, blue=5)

COLLECTOR = Collector(
    name="NAME", reads="nothing", permission="none", collect=collect,
    families=(Family("FAMILY", "Widgets by colour.", ("colour",),
                     lambda widgets: [((c,), n) for c, n in sorted(widgets.items())]),),
)
'''


def toy(name: str, family: str) -> str:
    return textwrap.dedent(TOY).replace("NAME", name).replace("FAMILY", family)


def test_every_collector_is_emitted_true_and_documented(simulator, tmp_path):
    """Three runs with a state: a first run, jobs ending and alerts created after it, a run
    that publishes their new label sets at 0, and one that adds them; then every family
    equals the truth."""
    textfile = tmp_path / "nbu_push.prom"
    env = sim_env(simulator, NBU_PUSH_TEXTFILE=str(textfile), NBU_JOB_SETTLE="0s",
                  NBU_STATE_FILE=str(tmp_path / "state.json"))
    for attempt in range(3):
        result = nbu_push(env=env)
        assert result.code == 0, result.stderr
        if attempt == 0:  # on the watermark and after it: the next run's interval
            watermark = published_ms(series(textfile.read_text()),
                                     "nbu_jobs_read_until_timestamp_seconds")
            assert watermark is not None
            for offset, status, policy in ((0, 0, "STANDARD"), (1, 0, "NEW_POLICY_TYPE"),
                                           (2, 96, "VMWARE")):
                simulator.add_job(watermark + offset, status=status, policy_type=policy)
            for severity in ("ERROR", "ERROR", "WARNING"):  # alerts created after the first run
                add_alert(simulator, severity)
        time.sleep(1.1)  # the primary's Date header has whole seconds
    published = series(textfile.read_text())
    truth = expected(simulator, published)
    documented = set(re.findall(r"`(nbu_[a-z0-9_]+)`", DOCS.read_text()))
    assert collectors(), "no collector declared"
    for name, collector in collectors().items():
        assert name in truth, f"the simulator has no truth for collector {name}"
        assert published["nbu_push_collector_success"][(("collector", name),)] == 1
        for family in collector.families:
            assert family.name in documented, f"{family.name} missing from docs/metrics.md"
            assert family.name in truth[name], f"no simulator truth for {family.name}"
            assert truth[name][family.name], f"the simulator never produces {family.name}"
            assert published.get(family.name) == truth[name][family.name], family.name


TOY_READER = '''
import msgspec

from nbu_push.collect.base import Collector
from nbu_push.metrics import Family
from nbu_push.netbackup.decoding import page_decoder
from nbu_push.netbackup.paging import offset_pages


class Widget(msgspec.Struct):
    id: object = None


decode = page_decoder(Widget)


def collect(client, ctx):
    return sum(len(page.records) for page in offset_pages(client, "/toy/widgets", {}, decode,
                                                          ctx.stats, ctx.max_pages, 7))


COLLECTOR = Collector(
    name="toy_reader", reads="GET /toy/widgets", permission="none", collect=collect,
    families=(Family("nbu_toy_widgets", "Widgets.", (), lambda n: [((), n)]),),
)
'''

TOY_ENDPOINT = '''
import json

from nbu_push.simulator.endpoints import Endpoint, Route
from nbu_push.simulator.pages import offset_page


def widgets(request):
    return offset_page(request, [json.dumps({"id": n}).encode()
                                 for n in request.sim.records["toy_widgets"]])


ENDPOINT = Endpoint(routes=(Route("GET", "/toy/widgets", widgets),),
                    generate=lambda rng, anchor_ms: list(range(rng.randint(20, 40))))
'''

TOY_TRUTH = '''
def expected(sim, reading):
    return {"nbu_toy_widgets": {(): float(len(sim.records["toy_widgets"]))}}
'''


@pytest.fixture
def extra_endpoints_and_truths(tmp_path, monkeypatch) -> Iterator[tuple[Path, Path]]:
    """Folders searched for simulator endpoints and truth modules, as if their files were in
    nbu_push/simulator/endpoints/ and tests/truth/."""
    from nbu_push.simulator import endpoints as endpoint_package

    from . import truth as truth_package

    folders = tmp_path / "more_endpoints", tmp_path / "more_truths"
    for folder, package in zip(folders, (endpoint_package, truth_package), strict=True):
        folder.mkdir()
        monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    endpoint_package.endpoints.cache_clear()
    yield folders
    endpoint_package.endpoints.cache_clear()


def test_a_new_collector_is_its_own_files(extra_collectors, extra_endpoints_and_truths,
                                          tmp_path):
    """The recipe of docs/design.md: a collector, its simulator endpoint and its truth, each
    a new file, found without an edit anywhere else; the run publishes the truth."""
    endpoints_folder, truths_folder = extra_endpoints_and_truths
    (extra_collectors / "toy_reader.py").write_text(textwrap.dedent(TOY_READER))
    (endpoints_folder / "toy_widgets.py").write_text(textwrap.dedent(TOY_ENDPOINT))
    (truths_folder / "toy_reader.py").write_text(textwrap.dedent(TOY_TRUTH))
    assert "toy_reader" in collectors()
    textfile = tmp_path / "out.prom"
    from nbu_push.simulator import Simulator

    with Simulator(jobs=50, units=2) as sim:
        settings = settings_from({"url": sim.url, "api_key": sim.api_key, "lock_file": "off",
                                  "textfile": str(textfile)})
        assert run(settings) == 0
        pages = [r for r in sim.requests if r.path == "/toy/widgets"]
    published = series(textfile.read_text())
    truth = expected_series(sim)["toy_reader"]
    assert published["nbu_toy_widgets"] == truth["nbu_toy_widgets"]
    assert truth["nbu_toy_widgets"][()] >= 20  # more than one page of 7: paging was served
    assert len(pages) >= 3
    assert published["nbu_push_collector_success"][(("collector", "toy_reader"),)] == 1


def test_two_collectors_with_one_name_fail_when_loaded(extra_collectors):
    (extra_collectors / "toy_a.py").write_text(
        toy("jobs", "nbu_toy_widgets"))
    with pytest.raises(ValueError, match="two collectors are named 'jobs'"):
        collectors()


def test_a_family_owned_twice_fails_when_loaded(extra_collectors):
    (extra_collectors / "toy_b.py").write_text(
        toy("toy_b", "nbu_jobs_finished"))
    with pytest.raises(ValueError, match="nbu_jobs_finished is declared by both"):
        collectors()


def test_a_module_without_a_collector_fails_when_loaded(extra_collectors):
    (extra_collectors / "forgotten.py").write_text("X = 1\n")
    with pytest.raises(TypeError, match="declares no COLLECTOR"):
        collectors()


@pytest.mark.parametrize("name", ["nbu_toy widgets", "toy_widgets", "nbu_widgets_total",
                                  "nbu_jobs_count", "nbu_Toy"])
def test_a_misspelt_family_name_fails_at_declaration(name):
    with pytest.raises(ValueError, match="not an nbu_ gauge name"):
        Family(name, "help", (), lambda summary: [])


def test_a_collector_without_families_fails_at_declaration():
    with pytest.raises(ValueError, match="declares no metric family"):
        Collector(name="empty", reads="", permission="", collect=lambda c, x: None,
                  families=())


@pytest.mark.parametrize("label", ["site", "collector", "Bad-Label"])
def test_reserved_or_invalid_labels_fail_at_declaration(label):
    with pytest.raises(ValueError, match="is not allowed"):
        Family("nbu_toy", "help", (label,), lambda summary: [])


def test_a_family_that_raises_fails_its_collector_only(extra_collectors):
    (extra_collectors / "toy_c.py").write_text(
        toy("toy_c", "nbu_toy_c").replace("((c,), n)", "((c, 'extra'), n)"))
    (extra_collectors / "toy_d.py").write_text(toy("toy_d", "nbu_toy_d"))
    broken = CollectorOutcome("toy_c", True, 0.1, CollectorStats(), data={"red": 1})
    fine = CollectorOutcome("toy_d", True, 0.1, CollectorStats(), data={"red": 1})
    published = series(render(RunReport("s", 0.0, 0.1, None, [broken, fine])).decode())
    assert "2 label values for 1 labels" in str(broken.error) and not broken.success
    assert "nbu_toy_c" not in published
    assert published["nbu_toy_d"] == {(("colour", "red"),): 1}
    assert published["nbu_push_success"] == {(): 0}
    assert published["nbu_push_collector_success"] == {(("collector", "toy_c"),): 0,
                                                       (("collector", "toy_d"),): 1}


def test_a_collector_may_not_declare_a_run_family(extra_collectors):
    (extra_collectors / "toy_e.py").write_text(toy("toy_e", "nbu_push_success"))
    with pytest.raises(ValueError, match="nbu_push_success: the nbu_push_ prefix is reserved"):
        collectors()


def test_a_family_that_raises_in_a_real_run_gives_the_partial_code(tmp_path, simulator):
    """The whole process: the raising family's collector fails, every other collector and
    the run's status are published, the exit code is the partial one."""
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "toy_raises.py").write_text(
        toy("toy_raises", "nbu_toy_raises").replace("sorted(widgets.items())", "1 / 0"))
    textfile = tmp_path / "out.prom"
    bootstrap = ("import sys, nbu_push.collect as c; c.__path__.append(sys.argv.pop(1));"
                 " sys.argv[0] = 'nbu-push'; from nbu_push.cli import main; main()")
    proc = subprocess.run(
        [sys.executable, "-c", bootstrap, str(folder)], capture_output=True, text=True,
        timeout=120, env=sim_env(simulator, NBU_PUSH_TEXTFILE=str(textfile),
                                 NBU_STATE_FILE="off", NBU_LOCK_FILE="off"))
    assert proc.returncode == EXIT_PARTIAL, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "collector toy_raises" in proc.stderr and "ZeroDivisionError" in proc.stderr
    published = series(textfile.read_text())
    assert published["nbu_push_success"] == {(): 0}
    success = published["nbu_push_collector_success"]
    assert success.pop((("collector", "toy_raises"),)) == 0
    assert set(success.values()) == {1} and set(success) == {(("collector", name),)
                                                             for name in collectors()}
    assert "nbu_toy_raises" not in published
    assert published["nbu_storage_unit_free_bytes"]  # the others' data is there


def test_an_outcome_of_an_undeclared_collector_fails_loudly():
    outcome = CollectorOutcome("no_such_collector", True, 0.1, CollectorStats(), data=1)
    with pytest.raises(KeyError):
        render(RunReport("s", 0.0, 0.1, None, [outcome]))
