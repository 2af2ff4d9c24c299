"""Job trees as NetBackup writes them: the job that carries the verdict decides.

Each shape of nbu_push/simulator/shapes.py is read through a real run with a run state and
compared with the simulator's own truth (computed from the trees it wrote, not by
nbu-push's rule); discovery hosts and snapshot-only clients have no backup series.
"""

from __future__ import annotations

import pytest

from nbu_push.simulator import Simulator

from .test_clients import ATTEMPT, COPY, OPEN, SNAPSHOT, STATUS, SUCCESS, of
from .test_run_state import Runs
from .truth import expected

CLIENT_FAMILIES = (SUCCESS, ATTEMPT, STATUS, OPEN, SNAPSHOT, COPY)
SHAPES = {  # shape: its clients (shapes.py)
    "multistream, a failed stream under a failed root": ["ms-failed.example.com"],
    "VMware discovery, a VM's backup failed after a good snapshot":
        ["vcenter02.example.com", "vm-a.example.com", "vm-b.example.com"],
    "Hyper-V discovery": ["hv-host01.example.com", "vm-c.example.com", "vm-d.example.com"],
    "snapshot, then SNAPDUPE late, failed or missing":
        ["nas-late.example.com", "nas-dupe-failed.example.com", "nas-snap-only.example.com",
         "nas-copy-then-snap.example.com"],
    "multiple copies, duplicate and replicate": ["copies.example.com"],
    "Oracle, application jobs": ["db01.example.com"],
}
NO_BACKUP_SERIES = ("vcenter02.example.com", "hv-host01.example.com",
                    "nas-snap-only.example.com")


@pytest.fixture(scope="module")
def published_and_truth(tmp_path_factory):
    """One first run and one incremental run (with the run state) on a primary whose only
    jobs are the shapes and a few plain backups."""
    with Simulator(jobs=40, seed=31, policy_types=[("STANDARD", 1)]) as sim:
        runs = Runs(sim, tmp_path_factory.mktemp("shapes"))
        runs.once()
        runs.advance(5)
        values = runs.once()
        truth = expected(sim, values)["clients"]
    return values, truth


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_gives_the_verdict_of_the_job_that_carries_it(shape, published_and_truth):
    values, truth = published_and_truth
    for client in SHAPES[shape]:
        for family in CLIENT_FAMILIES:
            assert of(values, family, client) == of(truth, family, client), (client, family)
        if client in NO_BACKUP_SERIES:
            assert of(values, SUCCESS, client) == {} and of(values, ATTEMPT, client) == {}
        elif client not in ("nas-dupe-failed.example.com", "vm-b.example.com",
                            "vm-d.example.com"):
            assert of(values, SUCCESS, client), client


def test_the_failures_are_the_roots_not_the_streams(published_and_truth):
    values, _ = published_and_truth
    [open_failures] = of(values, OPEN, "ms-failed.example.com").values()
    [status] = of(values, STATUS, "ms-failed.example.com").values()
    assert (open_failures, status) == (1, 13)  # one failed root, not two failed streams
    assert of(values, SNAPSHOT, "nas-snap-only.example.com")  # visible, not protected
    assert list(of(values, STATUS, "vm-b.example.com").values()) == [156.0]
    assert list(of(values, SNAPSHOT, "vm-b.example.com").values())  # its good snapshot


@pytest.mark.parametrize("root_type", ["DBBACKUP", "BACKUP"])
def test_catalog_freshness_is_the_newest_good_root(root_type, tmp_path):
    """The newest catalog tree's root failed while its children succeeded: freshness is the
    older tree's root, whatever type the roots have."""
    with Simulator(jobs=40, seed=32, policy_types=[("STANDARD", 1)],
                   catalog_root_type=root_type) as sim:
        values = Runs(sim, tmp_path).once()
        roots = sorted((job for job in sim.dataset.jobs if job.policy_type == "NBU_CATALOG"
                        and job.parent_id == job.job_id), key=lambda job: job.end_ms or 0)
    assert [job.status for job in roots] == [0, 2] and {job.job_type for job in roots} == {
        root_type}
    assert values["nbu_catalog_backup_last_success_timestamp_seconds"] == {
        (): roots[0].end_ms / 1000}


def test_a_lookup_reports_the_roots_verdict_not_a_good_stream(tmp_path):
    """A configured client never seen in the window, whose newest BACKUP record is a good
    stream of a failed multistream root: the look-up reports the root's failure, and the
    last success is the older good root."""
    with Simulator(jobs=40, seed=33, policy_types=[("STANDARD", 1)]) as sim:
        day = 86_400_000
        client = "old-multistream.example.com"
        good = sim.add_job(sim.dataset.anchor_ms - 35 * day, client=client, child_count=1)
        sim.add_job(good.end_ms - 1000, client=client, parent_id=good.job_id)
        failed = sim.add_job(sim.dataset.anchor_ms - 30 * day, client=client, status=13,
                             child_count=2)
        sim.add_job(failed.end_ms - 1000, client=client, status=13, parent_id=failed.job_id)
        sim.add_job(failed.end_ms - 500, client=client, status=0, parent_id=failed.job_id)
        sim.configured.append(client)
        values = Runs(sim, tmp_path, NBU_CLIENT_LOOKUPS="1000").once()
    assert list(of(values, SUCCESS, client).values()) == [good.end_ms / 1000]
    assert list(of(values, ATTEMPT, client).values()) == [failed.end_ms / 1000]
    assert list(of(values, STATUS, client).values()) == [13.0]
    assert list(of(values, OPEN, client).values()) == [1.0]
