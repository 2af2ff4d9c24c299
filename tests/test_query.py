from datetime import datetime, timedelta, timezone

import pytest

from nbu_push.netbackup.query import build_query, odata_and, odata_string, odata_timestamp


def test_timestamp_is_unquoted_utc_with_milliseconds():
    moment = datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=1)))
    assert odata_timestamp(moment) == "2026-01-01T00:02:03.456Z"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        odata_timestamp(datetime(2026, 1, 1))


def test_query_encodes_spaces_as_percent20_once():
    query = build_query({"filter": odata_and("endTime ge 2024-01-01T00:00:00.000Z",
                                             "jobType eq 'BACKUP'"),
                         "sort": "jobId", "page[limit]": 100})
    assert query == ("filter=endTime%20ge%202024-01-01T00%3A00%3A00.000Z%20and%20jobType"
                     "%20eq%20%27BACKUP%27&sort=jobId&page%5Blimit%5D=100")
    assert "+" not in query and "%25" not in query


def test_string_literal_doubles_quotes():
    assert odata_string("O'Brien") == "'O''Brien'"
