"""Tape drives and media, media servers and storage servers: through real runs against the
simulator (truth from tests/truth/), cursor paging to the end, the media interval, 404 and
403, and lenient reading of odd records."""

from __future__ import annotations

import json

import pytest

from nbu_push.collect import collectors
from nbu_push.collect._tape import robot_label, tokens
from nbu_push.collect.media_servers import MediaServerRecord, MediaServers
from nbu_push.collect.storage_servers import StorageServerRecord, StorageServers
from nbu_push.collect.tape_drives import DriveRecord, Drives
from nbu_push.collect.tape_media import TapeMedia, condition
from nbu_push.simulator import Faults, Simulator

from .cli import failed_alone, nbu_push, sim_env
from .truth import expected, series

TAPE_PATHS = ("/storage/drives", "/storage/tape-media", "/storage/tape-volume-pools")
NEW = ("tape_drives", "tape_media", "media_servers", "storage_servers")


def families_of(names: tuple[str, ...]) -> set[str]:
    return {family.name for name in names for family in collectors()[name].families}


def test_every_series_equals_the_truth_and_media_follow_their_cursor(tmp_path):
    with Simulator(jobs=100) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
        pages = {path: sum(r.path == path for r in sim.requests) for path in TAPE_PATHS}
        media = len(sim.records["tape_media"]["media"])
    assert result.code == 0, result.stderr
    published = series(result.stdout)
    truth = expected(sim, published)
    for name in NEW:
        for family, values in truth[name].items():
            assert values, family
            assert published[family] == values, family
    assert pages["/storage/tape-media"] == -(-media // 100) >= 3  # every page, no more
    counted = sum(published["nbu_tape_media"].values())
    cleaning = sum(1 for _, r in sim.records["tape_media"]["media"] if b"_CLN" in r)
    assert counted + cleaning == media


def test_a_primary_without_tape_has_no_tape_series_and_succeeds():
    with Simulator(jobs=100, absent=TAPE_PATHS) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    assert result.code == 0, result.stderr
    published = series(result.stdout)
    assert not families_of(("tape_drives", "tape_media")) & set(published)
    assert published["nbu_push_collector_success"][(("collector", "tape_media"),)] == 1
    assert "tape_drives: this primary does not offer GET /storage/drives (HTTP 404)" \
        in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("collector,path,faults", [
    ("tape_drives", "/storage/drives", {"forbidden": True}),
    ("tape_media", "/storage/tape-volume-pools", {"forbidden": True}),
    ("media_servers", "/config/media-servers", {"forbidden": True}),
    ("storage_servers", "/storage/storage-servers", {"forbidden": True}),
    ("tape_drives", "/storage/drives", {"empty": True}),  # the namespace not visible
    ("media_servers", "/config/media-servers", {"empty": True}),
])
def test_a_missing_permission_fails_that_collector_only(collector, path, faults):
    with Simulator(jobs=100, faults=Faults(path=path, **faults)) as sim:
        result = nbu_push("--dry-run", env=sim_env(sim))
    published = failed_alone(result, collector)
    others = families_of(tuple(n for n in NEW if n != collector))
    assert others <= set(published) and not families_of((collector,)) & set(published)


def test_media_are_read_at_most_every_interval(tmp_path):
    state = tmp_path / "state.json"
    with Simulator(jobs=100) as sim:
        env = sim_env(sim, NBU_STATE_FILE=str(state), NBU_TAPE_MEDIA_INTERVAL="1h")
        textfile = tmp_path / "out.prom"
        runs = []
        for _ in range(2):
            sim.requests.clear()
            result = nbu_push(env={**env, "NBU_PUSH_TEXTFILE": str(textfile)})
            assert result.code == 0, result.stderr
            runs.append((series(textfile.read_text()),
                         sum(r.path == "/storage/tape-media" for r in sim.requests)))
        sim.records["tape_media"]["media"].pop()  # a medium leaves: only a new read shows it
        sim.requests.clear()
        again = nbu_push(env={**env, "NBU_PUSH_TEXTFILE": str(textfile),
                              "NBU_TAPE_MEDIA_INTERVAL": "0s"})
        assert again.code == 0, again.stderr
        reread = sum(r.path == "/storage/tape-media" for r in sim.requests)
        after = series(textfile.read_text())
    (first_run, first_pages), (second_run, second_pages) = runs
    assert first_pages > 0 and second_pages == 0  # within the hour: no request
    for family in families_of(("tape_media",)):
        assert second_run[family] == first_run[family], family
    assert reread > 0
    assert after["nbu_tape_media_read_timestamp_seconds"][()] > \
        first_run["nbu_tape_media_read_timestamp_seconds"][()]
    assert sum(after["nbu_tape_media"].values()) + sum(
        1 for _, r in sim.records["tape_media"]["media"] if b"_CLN" in r) == len(
        sim.records["tape_media"]["media"])


def test_a_damaged_media_state_reads_afresh():
    assert TapeMedia.from_json({"read_at": "soon", "media": [], "cleanings": {}}) is None
    assert TapeMedia.from_json({"read_at": 1.0, "media": [["p", "t", "r"]],
                                "cleanings": {}}) is None
    kept = TapeMedia({("p", "t", "r", "usable"): 3}, {"TLD(0)": 7}, 1.5)
    assert TapeMedia.from_json(json.loads(json.dumps(kept.to_json()))) == kept


@pytest.mark.parametrize("robot_type,robot_number,expected_label", [
    ("TLD", 0, "TLD(0)"), ("acs", "2", "ACS(2)"), ("NA", 3, "standalone"),
    ("NOT_ROBOTIC", None, "standalone"), ("TLD", None, "TLD"), ("TLD", -1, "TLD"),
    (None, 0, "unknown"), (7, None, "7"),
])
def test_the_robot_label(robot_type, robot_number, expected_label):
    assert robot_label(robot_type, robot_number) == expected_label


@pytest.mark.parametrize("status,expected_condition", [
    ("FULL SUSPENDED FROZEN", "frozen"), ("SUSPENDED FULL", "suspended"),
    ("MULTIPLEXED FULL", "full"), ("ACTIVE IMPORTED", "usable"), ("", "usable"),
    (None, "usable"), ("  full  ", "full"), ("FULLY", "usable"),
])
def test_the_media_condition_by_precedence(status, expected_condition):
    assert condition(status) == expected_condition


def test_tape_alerts_are_read_with_or_without_their_trailing_comma():
    assert tokens("CLEAN_NOW,") == tokens("clean_now") == {"CLEAN_NOW"}
    assert tokens(None) == frozenset()


def decoded(record_type, records: list[dict]):
    import msgspec

    return msgspec.json.decode(json.dumps(records).encode(), type=list[record_type])


def test_odd_drive_records_are_read_leniently():
    drives = Drives()
    skipped = drives.add_records(decoded(DriveRecord, [
        {"id": "d1", "attributes": {"driveStatus": "DRIVE_STATUS_MIXED", "robotType": "TLD",
                                    "robotNumber": 1, "tapeAlert2": "CLEAN_PERIODIC,",
                                    "devicePaths": [{"pathStatus": "PATH_STATUS_DOWN"},
                                                    {"pathStatus": None}, "junk", {}]}},
        {"id": "d2", "attributes": {"driveStatus": 5, "devicePaths": "none"}},
        {"id": "", "attributes": {}}, {"id": "d3"},
    ]))
    assert skipped == 2
    d1, d2 = drives.drives["d1"], drives.drives["d2"]
    assert (d1.up, d1.needs_cleaning, d1.paths_down) == (False, True, 1)
    assert d1.labels == ("d1", "TLD(1)", "unknown")
    assert (d2.up, d2.needs_cleaning, d2.paths_down) == (False, None, None)


def test_odd_server_records_are_read_leniently():
    media = MediaServers()
    assert media.add_records(decoded(MediaServerRecord, [
        {"attributes": {"hostName": "m1", "isMachineUp": "yes", "status": "ACTIVE"}},
        {"attributes": {"hostName": "m2", "isMachineUp": False, "status": {"name": "OFFLINE"}}},
        {"attributes": {}}])) == 1
    assert media.servers["m1"].up is None and media.servers["m1"].status == "unknown"
    assert media.servers["m2"].up is False and media.servers["m2"].status == "OFFLINE"
    storage = StorageServers()
    storage.add_records(decoded(StorageServerRecord, [
        {"attributes": {"name": "s1", "sType": "PureDisk", "storageServerState": "up",
                        "msdpAttributes": {"deduplicationRatioPercentage": "812.5"}}},
        {"attributes": {"name": "s2", "msdpAttributes": {"deduplicationRatioPercentage": -1}}},
        {"attributes": {"name": "s3", "msdpAttributes": []}}]))
    assert storage.servers[("s1", "PureDisk")].up is True
    assert storage.servers[("s1", "PureDisk")].deduplication_ratio == 8.125
    assert storage.servers[("s2", "unknown")] == storage.servers[("s3", "unknown")]
    assert storage.servers[("s2", "unknown")].deduplication_ratio is None
