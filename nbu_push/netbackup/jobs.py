"""`/admin/jobs`: the job record as nbu-push reads it, and the queries every collector that
reads jobs shares (a count, the first job of a sorted filter, an endTime slice)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec

from ..runtime.errors import ApiError
from ..runtime.stats import CollectorStats
from .client import NetBackupClient
from .decoding import page_decoder
from .fields import number, timestamp
from .paging import first_record
from .query import odata_and, odata_timestamp

PATH = "/admin/jobs"
COUNT_PATH = "/admin/jobs-count-requests"


class JobAttributes(msgspec.Struct, gc=False):
    """The only job attributes nbu-push reads; the other ~70 are skipped while decoding."""

    jobType: Any = None
    policyType: Any = None
    status: Any = None
    childCount: Any = None
    kilobytesTransferred: Any = None
    kilobytesDataTransferred: Any = None
    numberOfFiles: Any = None
    endTime: Any = None
    jobId: Any = None
    parentJobId: Any = None
    clientName: Any = None
    policyName: Any = None


class JobRecord(msgspec.Struct, gc=False):
    attributes: JobAttributes | None = None


decode_jobs_page = page_decoder(JobRecord)


class JobTimes(msgspec.Struct):
    startTime: Any = None
    endTime: Any = None


class JobTimesRecord(msgspec.Struct):
    attributes: JobTimes | None = None


decode_times_page = page_decoder(JobTimesRecord)


def first_job_time(client: NetBackupClient, stats: CollectorStats, odata_filter: str,
                   sort: str, attribute: str) -> float | None:
    """`startTime` or `endTime` of the first job of a sorted query (`page[limit]=1`); None
    when no job matches or the one that does has no readable time."""
    record = first_record(client, PATH, {"filter": odata_filter, "sort": sort},
                          decode_times_page, stats)
    if record is None:
        return None
    if record.attributes is None:
        stats.add(skipped=1)
        return None
    return timestamp(getattr(record.attributes, attribute))


def utc_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def slice_filter(start_ms: int, end_ms: int) -> str:
    """The jobs that ended in `[start, end)`: half-open, so adjacent slices never share one."""
    return odata_and(f"endTime ge {odata_timestamp(utc_datetime(start_ms))}",
                     f"endTime lt {odata_timestamp(utc_datetime(end_ms))}")


def count_matching(client: NetBackupClient, stats: CollectorStats, odata_filter: str) -> int:
    """`POST /admin/jobs-count-requests`: how many jobs match the filter."""
    body = {"data": {"type": "jobCount", "attributes": {"filter": odata_filter}}}
    document = client.post_json(COUNT_PATH, body, stats=stats)
    data = document.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    count = number(attributes.get("count")) if isinstance(attributes, dict) else None
    if count is None or count < 0:
        raise ApiError(f"POST {COUNT_PATH}: no count in the response")
    return int(count)
