"""The one place where NetBackup query strings and OData filters are built.

NetBackup wants spaces as %20 (not +), timestamps unquoted in UTC with milliseconds, and
every value encoded exactly once: a pre-encoded filter would be encoded again (%2520).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import datetime, timezone


def build_query(params: Mapping[str, object]) -> str:
    """Encode query parameters once, spaces as %20. Pass the result to requests as is."""
    return urllib.parse.urlencode(
        {name: str(value) for name, value in params.items()}, quote_via=urllib.parse.quote
    )


def odata_timestamp(moment: datetime) -> str:
    """`2026-01-01T00:00:00.000Z`: the only date-time literal NetBackup filters accept."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: NetBackup filters need an aware UTC time")
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def odata_string(value: str) -> str:
    """A single-quoted OData string literal, quotes inside doubled."""
    return "'" + value.replace("'", "''") + "'"


def odata_and(*clauses: str) -> str:
    """Join comparisons with `and`, the only combinator /admin/jobs accepts."""
    return " and ".join(clause for clause in clauses if clause)
