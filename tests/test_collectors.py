"""Jobs and storage collectors against requests-mock: exact URLs, paging, lenient parsing."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest

from nbu_push.collect._jobs.cells import JobGroup
from nbu_push.collect._jobs.ledger import JobLedger
from nbu_push.collect._jobs.tally import JobTally
from nbu_push.collect.base import CollectContext
from nbu_push.collect.jobs import collect_jobs
from nbu_push.collect.storage import StorageSummary, collect_storage, decode_units_page
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.netbackup.jobs import decode_jobs_page
from nbu_push.runtime.errors import ApiError, Incomplete
from nbu_push.runtime.retry import Backoff
from nbu_push.state import json_chunks

BASE = "https://nbu.example.com:1556/netbackup"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def client() -> NetBackupClient:
    nbu = NetBackupClient(BASE, backoff=Backoff(attempts=1))
    nbu.set_credential("key")
    nbu.api_version = "12.0"
    return nbu


def job(job_id, **attrs):
    base = {"jobId": job_id, "jobType": "BACKUP", "policyType": "STANDARD", "status": 0,
            "state": "DONE", "kilobytesTransferred": 10}
    base.update(attrs)
    return {"type": "job", "id": str(job_id), "attributes": base}


def test_jobs_follow_string_cursors_with_exact_urls(requests_mock):
    pages = {None: ([job(1), job(2)], "c-2"), "c-2": ([job(3)], "c-3"),
             "c-3": ([job(4)], None)}

    def respond(request, context):
        after = request.qs.get("page[after]", [None])[0]
        data, cursor = pages[after]
        meta = {"pagination": {"limit": 100}}
        if cursor:
            meta["pagination"]["next"] = cursor
        return {"data": data, "meta": meta}

    requests_mock.get(BASE + "/admin/jobs", json=respond)
    summary = collect_jobs(client(), CollectContext(now=NOW, job_window=3600, concurrency=1))
    window = ("filter=endTime%20ge%202026-03-01T11%3A00%3A00.000Z%20and%20endTime%20lt%20"
              "2026-03-01T12%3A00%3A00.000Z&sort=endTime&page%5Blimit%5D=100")
    assert [r.url for r in requests_mock.request_history] == [
        f"{BASE}/admin/jobs?{window}",
        f"{BASE}/admin/jobs?{window}&page%5Bafter%5D=c-2",
        f"{BASE}/admin/jobs?{window}&page%5Bafter%5D=c-3",
    ]
    assert summary.groups[("BACKUP", "STANDARD", "0")].finished == 4


def test_repeated_cursor_fails_the_collector(requests_mock):
    requests_mock.get(BASE + "/admin/jobs", json={"data": [job(1)],
                                                  "meta": {"pagination": {"next": "same"}}})
    with pytest.raises(ApiError, match="repeated"):
        collect_jobs(client(), CollectContext(now=NOW, concurrency=1))
    assert requests_mock.call_count == 2


def test_a_cursor_cycle_is_caught_and_the_cursors_followed_cost_eight_bytes_each(
        requests_mock):
    """A chain that comes back to any earlier cursor fails before that page is read again;
    remembering the cursors of a 1,000,000-job read (10,000) costs about 80 KB, not 1 MB."""
    import tracemalloc

    from nbu_push.netbackup.paging import FollowedCursors

    following = {None: "c-1", "c-1": "c-2", "c-2": "c-3", "c-3": "c-1"}  # back to the first
    requests_mock.get(BASE + "/admin/jobs", json=lambda request, context: {
        "data": [job(1)], "meta": {"pagination": {
            "next": following[request.qs.get("page[after]", [None])[0]]}}})
    with pytest.raises(ApiError, match="'c-1' repeated on page 5"):
        collect_jobs(client(), CollectContext(now=NOW, concurrency=1))
    assert requests_mock.call_count == 4
    cursors = [f"{n:07d}" for n in range(10_000)]  # made before the count starts
    tracemalloc.start()
    followed = FollowedCursors()
    assert all(followed.add(cursor) for cursor in reversed(cursors))
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert size < 10 * len(cursors)
    assert not any(followed.add(cursor) for cursor in cursors)


def test_page_cap_fails_instead_of_looping(requests_mock):
    counter = iter(range(10**6))
    requests_mock.get(BASE + "/admin/jobs", json=lambda r, c: {
        "data": [job(1)], "meta": {"pagination": {"next": str(next(counter))}}})
    ctx = CollectContext(now=NOW, concurrency=1, max_pages=5)
    with pytest.raises(ApiError, match="more than 5 pages"):
        collect_jobs(client(), ctx)
    assert ctx.stats.page_cap_hits == 1 and ctx.stats.pages == 5


def test_storage_offsets_across_three_pages(requests_mock):
    units = [{"id": f"u{i}", "attributes": {"name": f"u{i}", "storageCategory": "MSDP",
                                            "storageType": "DISK", "freeCapacityBytes": i}}
             for i in range(1100)]

    def respond(request, context):
        offset, limit = int(request.qs["page[offset]"][0]), int(request.qs["page[limit]"][0])
        return {"data": units[offset:offset + limit],
                "meta": {"pagination": {"count": len(units), "offset": offset,
                                        "limit": limit}}}

    requests_mock.get(BASE + "/storage/storage-units", json=respond)
    summary = collect_storage(client(), CollectContext(now=NOW))
    assert [r.url.split("?")[1] for r in requests_mock.request_history] == [
        "page%5Blimit%5D=500&page%5Boffset%5D=0",
        "page%5Blimit%5D=500&page%5Boffset%5D=500",
        "page%5Blimit%5D=500&page%5Boffset%5D=1000",
    ]
    assert len(summary.units) == 1100


def page(*items) -> bytes:
    return json.dumps({"data": list(items)}).encode()


def test_storage_without_capacity_is_absent_not_zero():
    summary = StorageSummary()
    summary.add_records(decode_units_page(page(
        {"id": "cloud", "attributes": {"name": "cloud", "storageCategory": "CLOUD",
                                       "storageType": "DISK", "isCloudSTU": True}},
        {"id": "max", "attributes": {"name": "max", "storageCategory": "CLOUD",
                                     "freeCapacityBytes": 2**63 - 1}},
        {"id": "disk", "attributes": {"name": "disk", "storageCategory": "MSDP",
                                      "freeCapacityBytes": 0, "usedCapacityBytes": 5,
                                      "totalCapacityBytes": 5}}), "test").records)
    assert summary.units["cloud"].free_bytes is None
    assert summary.units["cloud"].capacity_bytes is None
    assert summary.units["max"].free_bytes is None
    assert summary.units["disk"].free_bytes == 0


def groups_of(tally: JobTally) -> dict:
    """The tally's groups by label set, minutes merged (the tally is spent)."""
    buckets, counted = tally.take_buckets(fallback_minute=0)
    assert not counted.keys  # a tally without a window keeps every minute
    return groups_in(buckets.values())


def groups_in(cells_of_minutes) -> dict:
    merged: dict = {}
    for cells in cells_of_minutes:
        for key, amounts in cells.items():
            merged.setdefault(key, JobGroup()).add_amounts(amounts)
    return merged


def test_lenient_job_parsing():
    summary = JobTally()
    decoded = decode_jobs_page(page(
        job(1, acceleratorOptimization=0.0, kilobytesTransferred=1.5),  # float for an int
        job(2, jobType="NEW_TYPE_FROM_11_3", status="196"),  # unknown enum, numeric string
        {"type": "job", "id": "3", "attributes": {}},  # every field missing
        "not a record",
        {"type": "job", "attributes": "not an object"},
        {"type": "job", "attributes": None},
        job(4, status=0.0, jobType=["odd"], kilobytesTransferred={"x": 1}),  # odd types
    ), "test")
    assert decoded.skipped == 2
    assert summary.add_records(decoded.records) == 1
    groups = groups_of(summary)
    assert groups[("BACKUP", "STANDARD", "0")].transferred_bytes == 1536
    assert groups[("NEW_TYPE_FROM_11_3", "STANDARD", "196")].finished == 1
    unknown = groups[("unknown", "unknown", "unknown")]
    assert unknown.finished == 1 and unknown.transferred_bytes is None  # absent, not 0
    odd = groups[("unknown", "STANDARD", "0")]  # a list is no label; 0.0 is "0"
    assert odd.finished == 1 and odd.transferred_bytes is None


def test_one_bad_record_does_not_discard_the_page():
    decoded = decode_jobs_page(page(job(1), 42, job(2)), "test")
    assert len(decoded.records) == 2 and decoded.skipped == 1


def test_statuses_of_different_types_are_one_series():
    summary = JobTally()
    summary.add_records(decode_jobs_page(page(job(1, status=0), job(2, status="0"),
                                              job(3, status=0.0)), "test").records)
    assert groups_of(summary)[("BACKUP", "STANDARD", "0")].finished == 3


def test_parent_bytes_are_not_counted_twice():
    summary = JobTally()
    summary.add_records(decode_jobs_page(page(
        job(10, childCount=2, kilobytesTransferred=300, numberOfFiles=30),
        job(11, parentJobId=10, childCount=0, kilobytesTransferred=100, numberOfFiles=10),
        job(12, parentJobId=10, kilobytesTransferred=200, numberOfFiles=20),
        job(13, parentJobId=10, childCount="0", kilobytesTransferred=1, numberOfFiles=-5)),
        "test").records)
    group = groups_of(summary)[("BACKUP", "STANDARD", "0")]
    assert group.finished == 4
    assert group.transferred_bytes == 301 * 1024
    assert group.files == 30


def test_a_failing_chain_fails_the_collector_without_hanging_the_others(requests_mock):
    calls = {"n": 0}
    lock = threading.Lock()

    def respond(request, context):
        with lock:
            calls["n"] += 1
        if "T11%3A00" in request.url and "page%5Bafter%5D" not in request.url:
            context.status_code = 400
            return {"errorCode": 9401, "errorMessage": "bad"}
        time.sleep(0.01)
        return {"data": [job(calls["n"])], "meta": {"pagination": {"next": str(calls["n"])}}}

    requests_mock.get(BASE + "/admin/jobs", json=respond)
    requests_mock.post(BASE + "/admin/jobs-count-requests", status_code=406, json={})
    started = time.monotonic()
    with pytest.raises(ApiError, match="9401"):
        collect_jobs(client(), CollectContext(now=NOW, concurrency=4, max_pages=10_000))
    assert time.monotonic() - started < 5
    assert calls["n"] < 200  # the healthy chains stopped instead of paging on


def test_slices_are_sized_by_job_counts(requests_mock):
    burst_start = datetime(2026, 3, 1, 11, 30, tzinfo=timezone.utc).timestamp() * 1000
    ends = [burst_start + 2250 * n for n in range(400)]  # 11:30 to 11:45, evenly

    def count(request, context):  # what a server holding those jobs answers
        low, high = (datetime.fromisoformat(term.split()[-1].replace("Z", "+00:00"))
                     .timestamp() * 1000
                     for term in request.json()["data"]["attributes"]["filter"].split(" and "))
        return {"data": {"type": "jobCount",
                         "attributes": {"count": sum(low <= end < high for end in ends)}}}

    requests_mock.post(BASE + "/admin/jobs-count-requests", json=count)
    requests_mock.get(BASE + "/admin/jobs", json={"data": []})
    ctx = CollectContext(now=NOW, concurrency=4)
    collect_jobs(client(), ctx)
    bodies = [r.json() for r in requests_mock.request_history if r.method == "POST"]
    # four equal times, then the burst's quarter again in eight (the last by subtraction)
    assert [b["data"]["type"] for b in bodies] == ["jobCount"] * (4 + 7)
    filters = [r.qs["filter"][0] for r in requests_mock.request_history if r.method == "GET"]
    assert filters[0].startswith("endtime ge 2026-03-01t11:00:00.000z and endtime lt "
                                 "2026-03-01t11:33:45")
    assert ctx.stats.requests == 4 + 7 + 4


def test_slices_fall_back_to_equal_time_without_counts(requests_mock):
    requests_mock.post(BASE + "/admin/jobs-count-requests", status_code=406, json={})
    requests_mock.get(BASE + "/admin/jobs", json={"data": []})
    collect_jobs(client(), CollectContext(now=NOW, concurrency=4))
    filters = sorted(r.qs["filter"][0] for r in requests_mock.request_history
                     if r.method == "GET")
    assert [f.split(" and ")[0][-13:] for f in filters] == [
        "11:00:00.000z", "11:15:00.000z", "11:30:00.000z", "11:45:00.000z"]


def test_offset_paging_without_a_count_reads_until_an_empty_page(requests_mock):
    """A server whose own page (100) is smaller than the one asked for (500), and that sends
    no count: a short page is no proof of the end, an empty one is."""
    units = [{"id": f"u{i}", "attributes": {"name": f"u{i}"}} for i in range(700)]
    requests_mock.get(BASE + "/storage/storage-units", json=lambda r, c: {
        "data": units[int(r.qs["page[offset]"][0]):int(r.qs["page[offset]"][0]) + 100]})
    summary = collect_storage(client(), CollectContext(now=NOW))
    assert len(summary.units) == 700 and requests_mock.call_count == 8


def test_minutes_a_slice_read_a_window_past_are_only_counted_or_dropped():
    """A slice holds at most the longest window of minutes however long it is: what it read
    further back is in no window again, so it is counted (from `counting_from_ms` on) or
    dropped, and a window that ends where the slice ends is still exact to the minute."""
    from nbu_push.collect._jobs.tally import minute_of
    from nbu_push.netbackup.jobs import JobAttributes, JobRecord

    ends = [f"2026-03-01T{hour:02d}:{minute:02d}:{second:02d}.000Z"
            for hour in (6, 7, 8, 9, 10) for minute in range(60) for second in (10, 40)]
    records = [JobRecord(JobAttributes(jobType="BACKUP", policyType="STANDARD",
                                       status=n % 3, kilobytesTransferred=n, endTime=end))
               for n, end in enumerate(ends)]
    counting_from, keep = minute_of("2026-03-01T08:00"), 30 * 60_000
    tally = JobTally(keep, counting_from)
    for start in range(0, len(records), 100):  # pages in endTime order
        tally.add_records(records[start:start + 100])
        assert len(tally._packed) <= 31  # the window's minutes, never the slice's
    buckets, counted = tally.take_buckets(fallback_minute=0)

    def totals(selected) -> dict:
        found: dict = {}
        for record in selected:
            a = record.attributes
            row = found.setdefault(("BACKUP", "STANDARD", str(a.status)), [0, 0, None, None])
            row[0] += 1
            row[1] += a.kilobytesTransferred * 1024
        return found

    newest = minute_of(ends[-1][:16])
    kept_from = newest - keep  # the window that ends at the newest job starts here
    assert set(buckets) == set(range(kept_from, newest + 1, 60_000))
    in_buckets = totals(r for r in records if minute_of(r.attributes.endTime[:16]) >= kept_from)
    assert groups_in(buckets.values()) == {k: JobGroup.of(v) for k, v in in_buckets.items()}
    assert dict(counted.items()) == totals(
        r for r in records if counting_from <= minute_of(r.attributes.endTime[:16]) < kept_from)


def test_the_window_ends_at_the_watermark_not_at_what_later_slices_read():
    """An earlier slice stopped at W, a later one was read completely: the watermark stays
    at W and this run's window is the hour before it; what the later slice read is kept (and
    counted) for the run that reads the gap, whose window then covers it."""
    from nbu_push.collect._jobs.cells import floor_minute
    from nbu_push.collect._jobs.ledger import JobLedger
    from nbu_push.netbackup.jobs import JobAttributes, JobRecord

    hour, minute = 3_600_000, 60_000
    start = 1_772_280_000_000  # a minute edge
    stopped, later, end = start + 2 * hour, start + 12 * hour, start + 24 * hour

    def read(ends_ms: list[int], from_ms: int, until_ms: int) -> None:
        tally = JobTally(hour, end)
        tally.add_records([JobRecord(JobAttributes(
            jobType="BACKUP", policyType="STANDARD", status=0,
            endTime=datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat()[:23] + "Z"))
            for ms in ends_ms])
        ledger.add(tally.take_buckets(floor_minute(until_ms - 1)), from_ms, until_ms)

    def in_window() -> int:
        return sum(group.finished for group in ledger.window(3600).values())

    ledger = JobLedger(start, end)
    read([stopped - 20 * minute, stopped - 10 * minute], start, stopped)
    read([later + hour, end - 10 * minute, end - 5 * minute], later, end)
    assert (ledger.watermark_ms, ledger.read_ahead) == (stopped, [(later, end)])
    assert in_window() == 2  # not the three read ahead
    read([later - hour], stopped, later)  # the next run reads the gap
    assert (ledger.watermark_ms, ledger.read_ahead) == (end, [])
    assert in_window() == 2  # the hour before the end, kept from the earlier read


def test_collectors_run_after_those_they_use_and_a_cycle_fails():
    from nbu_push.collect.base import Collector
    from nbu_push.metrics import Family
    from nbu_push.run import _dependencies_first

    def declared(name: str, uses: tuple[str, ...]) -> Collector:
        return Collector(name=name, reads="", permission="", collect=lambda c, x: None,
                         families=(Family(f"nbu_{name}", "h", (), lambda s: []),), uses=uses)

    chain = {"a": declared("a", ("b",)), "b": declared("b", ("c",)), "c": declared("c", ())}
    assert _dependencies_first(["a", "b", "c"], chain) == ["c", "b", "a"]
    assert _dependencies_first(["a", "b"], chain) == ["b", "a"]  # c is not selected
    loop = {"a": declared("a", ("b",)), "b": declared("b", ("a",))}
    with pytest.raises(ValueError, match="cycle"):
        _dependencies_first(["a", "b"], loop)


@pytest.mark.parametrize("readable", [True, False])
def test_a_stopped_chain_keeps_its_progress_only_when_every_end_was_readable(requests_mock,
                                                                              readable):
    """In endTime order, a chain that stops has read everything before its last endTime; a
    job whose endTime cannot be read could belong anywhere, so then nothing is kept."""
    first = [job(1, endTime="2026-03-01T11:10:00.000Z"),
             job(2, endTime="2026-03-01T11:20:00.000Z" if readable else None),
             job(3, endTime="2026-03-01T11:30:00.000Z")]

    def respond(request, context):
        if "page%5Bafter%5D" in request.url:
            context.status_code = 400
            return {"errorCode": 9401, "errorMessage": "bad"}
        return {"data": first, "meta": {"pagination": {"next": "3"}}}

    requests_mock.get(BASE + "/admin/jobs", json=respond)
    requests_mock.post(BASE + "/admin/jobs-count-requests", status_code=406, json={})
    ctx = CollectContext(now=NOW, concurrency=1)
    if readable:
        with pytest.raises(Incomplete) as stopped:
            collect_jobs(client(), ctx)
        kept = stopped.value.summary.ledger
        assert kept.watermark_ms == datetime(2026, 3, 1, 11, 30,
                                             tzinfo=timezone.utc).timestamp() * 1000
        assert sum(g.finished for g in kept.window(3600).values()) == 2  # job 3 is held
    else:
        with pytest.raises(ApiError, match="9401") as stopped:
            collect_jobs(client(), ctx)
        assert not isinstance(stopped.value, Incomplete)


def test_a_clients_failures_are_kept_only_after_its_last_good_backup_and_bounded():
    from nbu_push.collect._jobs.observations import MAX_FAILURES

    def backup(minute: int, status: int) -> dict:
        return job(minute, clientName="c1", policyName="p", status=status,
                   endTime=f"2026-03-01T{minute // 60:02d}:{minute % 60:02d}:00.000Z")

    tally = JobTally()
    tally.add_records(decode_jobs_page(page(backup(1, 58), backup(2, 58), backup(3, 0),
                                            backup(4, 58)), "test").records)
    seen = tally.backups.by_client()[("c1", "p", "STANDARD")].in_ms()
    assert seen is not None and len(seen.failures) == 1 and seen.failures[0] > seen.success
    always_failing = JobTally()
    always_failing.add_records(decode_jobs_page(page(*(backup(m, 58) for m in range(1000))),
                                                "test").records)
    kept = always_failing.backups.by_client()[("c1", "p", "STANDARD")]
    assert MAX_FAILURES <= len(kept.failures) <= 2 * MAX_FAILURES
    assert max(kept.failures) == "2026-03-01T16:39:00.000Z"  # the newest stay


def test_the_slices_of_a_run_share_one_record_of_each_clients_backups():
    """Slices read in parallel threads observe into one Backups: a client's newest attempt,
    newest good backup and the failures after it, whichever slice (and thread) saw them."""
    from concurrent.futures import ThreadPoolExecutor

    from nbu_push.collect._jobs.observations import Backups

    def backup(minute: int, status: int) -> dict:
        return job(minute, clientName="c1", policyName="p", status=status,
                   endTime=f"2026-03-01T{minute // 60:02d}:{minute % 60:02d}:00.000Z")

    shared = Backups()
    slices = [range(start, start + 60) for start in range(0, 480, 60)]  # 8 hours, 8 slices
    # every slice fails but for a good backup at minute 10 of each hour; the last hour ends
    # with failures at 11..59 after its good backup at 10
    pages = [decode_jobs_page(page(*(backup(m, 0 if m % 60 == 10 else 58) for m in minutes)),
                              "test").records for minutes in slices]

    def read(records: list) -> None:
        JobTally(backups=shared).add_records(records)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read, reversed(pages)))

    def minute_ms(minute: int) -> int:
        return 1_772_323_200_000 + minute * 60_000  # 2026-03-01T00:00Z + minutes

    seen = shared.by_client()[("c1", "p", "STANDARD")].in_ms()
    assert seen is not None
    assert (seen.success, seen.attempt) == (minute_ms(7 * 60 + 10), minute_ms(7 * 60 + 59))
    assert sorted(seen.failures) == [minute_ms(m) for m in range(7 * 60 + 11, 480)]


def test_the_ledger_state_reads_back_as_written_and_refuses_what_could_not_be_summed():
    from nbu_push.collect._jobs.tally import minute_of

    tally = JobTally()
    tally.add_records(decode_jobs_page(page(
        job(1, endTime="2026-03-01T10:00:05.000Z", kilobytesTransferred=2**40),
        job(2, endTime="2026-03-01T10:00:59.000Z", kilobytesTransferred=None),
        job(3, endTime="2026-03-01T10:01:00.000Z", status=13, numberOfFiles=7),
        job(4, endTime="2026-03-01T10:01:30.000Z", childCount=2)), "test").records)
    ledger = JobLedger(minute_of("2026-03-01T10:00"), minute_of("2026-03-01T10:00"))
    ledger.add(tally.take_buckets(0), ledger.watermark_ms, minute_of("2026-03-01T10:02"))
    document = saved(ledger)
    assert saved(JobLedger.from_json(document)) == document
    rows = {tuple(row[:4]): row[4:] for row in document["buckets"]}
    ten, ten_one = minute_of("2026-03-01T10:00"), minute_of("2026-03-01T10:01")
    assert rows[(ten, "BACKUP", "STANDARD", "0")] == [2, 2**50, None, None]
    assert rows[(ten_one, "BACKUP", "STANDARD", "13")] == [1, 10 * 1024, None, 7]
    assert rows[(ten_one, "BACKUP", "STANDARD", "0")] == [1, None, None, None]  # a parent
    for damaged in ([*document["buckets"], document["buckets"][0]],  # a row twice
                    [[ten, "BACKUP", "STANDARD", "0", 10**400, None, None, None]]):  # no float
        with pytest.raises(ValueError):
            JobLedger.from_json({**document, "buckets": damaged})
    # a row may sum past int64 (each job's bytes fit): it is kept, and read back
    huge = JobTally()
    huge.add_records(decode_jobs_page(page(*(
        job(n, endTime="2026-03-01T10:00:05.000Z", kilobytesTransferred=2**53 - 1)
        for n in (1, 2, 3))), "test").records)
    ledger.add(huge.take_buckets(0), ledger.watermark_ms, ledger.watermark_ms)
    row = next(r for r in saved(ledger)["buckets"] if r[:4] == [ten, "BACKUP", "STANDARD", "0"])
    assert row[4] == 5 and row[5] > 2**63 and row[5] == pytest.approx(2**50 + 3 * 2**63)
    assert saved(JobLedger.from_json(saved(ledger))) == saved(ledger)


def saved(ledger: JobLedger) -> dict:
    """The ledger as the run state writes it and reads it back."""
    return json.loads("".join(json_chunks(ledger.to_json())))


def test_minutes_a_slice_has_read_past_are_packed_and_a_late_job_is_still_counted():
    """Pages come in endTime order, so a tally packs each minute it has passed; a job that
    arrives after its minute was packed (a server out of order) is added to the same row."""
    import random

    from nbu_push.collect._jobs.tally import minute_of
    from nbu_push.netbackup.jobs import JobAttributes, JobRecord

    rng = random.Random(5)
    records = [JobRecord(JobAttributes(jobType="BACKUP", policyType=rng.choice(["A", "B"]),
                                       status=rng.choice([0, 1, 13]), kilobytesTransferred=3,
                                       kilobytesDataTransferred=2, numberOfFiles=1,
                                       endTime=f"2026-03-01T10:{m:02d}:{s:02d}.000Z"))
               for m in range(30) for s in range(0, 60, 7)]
    late = [records.pop(rng.randrange(len(records))) for _ in range(20)]
    expected: dict = {}
    for record in [*records, *late]:
        a = record.attributes
        row = expected.setdefault((minute_of(a.endTime[:16]), a.policyType, str(a.status)),
                                  [0, 0, 0, 0])
        for index, amount in enumerate((1, 3 * 1024, 2 * 1024, 1)):
            row[index] += amount
    tally = JobTally()
    for start in range(0, len(records), 25):  # pages in endTime order ...
        tally.add_records(records[start:start + 25])
        assert len(tally._open) <= 2 * 3  # ... one or two minutes open at a time
    tally.add_records(late)  # ... then jobs of minutes long packed
    folded = {(minute, key[1], key[2]): amounts
              for minute, cells in tally.take_buckets(0)[0].items()
              for key, amounts in cells.items()}
    assert folded == {key: row for key, row in expected.items()}


def test_a_loaded_ledger_keeps_a_row_in_under_64_bytes():
    """A full hour of minutes for 700 label sets, read back from a state: each row keeps its
    amounts and a reference to its label set's one key (tens of thousands of rows on a large
    primary; a lookup dict per minute or a key tuple per row would double it)."""
    import tracemalloc

    from nbu_push.collect._jobs.cells import Cells

    ledger = JobLedger(0, 0)
    keys = [("BACKUP", f"TYPE_{n % 20}", str(n // 20)) for n in range(700)]
    for minute in range(60):
        cells = ledger.buckets[minute * 60_000] = Cells()
        for key in keys:
            cells.add(key, [1, 2048, 1024, 3])
    document = saved(ledger)  # its strings are allocated before the count starts
    tracemalloc.start()
    loaded = JobLedger.from_json(document)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert saved(loaded) == document
    assert size < 64 * 60 * 700
