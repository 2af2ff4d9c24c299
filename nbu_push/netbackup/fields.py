"""Lenient field access: every field optional, wrong types read as absent, absent is not 0."""

from __future__ import annotations

import math
from datetime import datetime, timezone

INT64_MAX = 2**63 - 1


def number(value: object) -> float | int | None:
    """An int or float (also from a numeric string); None for null, bools and junk."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        if not math.isfinite(parsed):
            return None
        return int(parsed) if parsed.is_integer() else parsed
    return None


def label(value: object, missing: str = "unknown") -> str:
    """A label value from a string or number; `missing` when absent or empty."""
    if isinstance(value, bool) or value is None:
        return missing
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if isinstance(value, (str, int, float)) else ""
    return text or missing


def capacity(value: object) -> int | None:
    """A byte count; NetBackup's int64-max placeholder and negatives read as absent."""
    parsed = number(value)
    if parsed is None or parsed < 0 or parsed >= INT64_MAX:
        return None
    return int(parsed)


def timestamp(value: object) -> float | None:
    """Unix seconds from an ISO 8601 date-time (`2026-01-01T00:00:00.000Z`).

    Naive times are UTC (NetBackup sends UTC). Missing, unparseable, or non-positive times
    (peers' mocks use `0001-01-01T00:00:00Z` for "no time") are absent.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)  # Python 3.11 reads NetBackup's "Z" itself
    except ValueError:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = moment.timestamp()
    return seconds if seconds > 0 else None
