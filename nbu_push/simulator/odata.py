"""The OData filter subset NetBackup's /admin/jobs accepts: comparisons joined by `and`."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

TIME_FIELDS = {"endTime": "end_ms", "startTime": "start_ms"}
INT_FIELDS = {"jobId": "job_id", "parentJobId": "parent_id", "status": "status"}
STRING_FIELDS = {"state": "state", "jobType": "job_type", "policyType": "policy_type",
                 "clientName": "client"}
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "ge": lambda a, b: a >= b,
}
STRING_OPS = {"eq", "ne"}
_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne|lt|gt|le|ge)\s+(.+?)\s*$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


class FilterError(ValueError):
    """400 with errorCode 9401, as a real primary answers an invalid filter."""


def _split_and(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted, i = False, 0
    while i < len(text):
        char = text[i]
        if char == "'":
            quoted = not quoted
        if not quoted and text[i:i + 5] == " and ":
            parts.append("".join(current))
            current, i = [], i + 5
            continue
        current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def _millis(literal: str) -> int:
    return int(datetime.fromisoformat(literal.replace("Z", "+00:00")).timestamp() * 1000)


def compile_filter(text: str) -> Callable[[object], bool]:
    """A predicate over simulator Job objects, or FilterError with NetBackup's wording."""
    tests: list[tuple[str, Callable[[Any, Any], bool], Any]] = []
    for clause in _split_and(text):
        match = _CLAUSE.match(clause)
        if not match:
            raise FilterError(f"The OData filter criteria is invalid near '{clause.strip()}'.")
        name, op, literal = match.groups()
        value: Any
        if name in TIME_FIELDS:
            if literal.startswith("'"):
                raise FilterError("The OData filter criteria is invalid. The types"
                                  " 'Edm.DateTimeOffset' and 'Edm.String' are not compatible.")
            if not _TIMESTAMP.match(literal):
                raise FilterError(f"The OData filter criteria is invalid: '{literal}'.")
            attr, value = TIME_FIELDS[name], _millis(literal)
        elif name in INT_FIELDS:
            if not re.fullmatch(r"-?\d+", literal):
                raise FilterError(f"The OData filter criteria is invalid: '{literal}'.")
            attr, value = INT_FIELDS[name], int(literal)
        elif name in STRING_FIELDS:
            if op not in STRING_OPS or not (literal.startswith("'") and literal.endswith("'")):
                raise FilterError(f"The OData filter criteria is invalid for '{name}'.")
            attr, value = STRING_FIELDS[name], literal[1:-1].replace("''", "'")
        else:
            raise FilterError(f"The OData filter criteria is invalid: unknown field '{name}'.")
        tests.append((attr, OPS[op], value))

    def predicate(job: object) -> bool:
        for attr, compare, value in tests:
            actual = getattr(job, attr)
            if actual is None or not compare(actual, value):
                return False
        return True

    predicate.end_bounds = _end_bounds(tests)  # type: ignore[attr-defined]
    predicate.end_only = all(attr == "end_ms" for attr, _, _ in tests)  # type: ignore[attr-defined]
    predicate.client = next((value for attr, compare, value in tests  # type: ignore[attr-defined]
                             if attr == "client" and compare is OPS["eq"]), None)
    return predicate


def _end_bounds(tests: list) -> tuple[int, int] | None:
    """[low, high) milliseconds implied by the endTime clauses, to narrow by index first."""
    low, high, found = -(2**62), 2**62, False
    for attr, compare, value in tests:
        if attr != "end_ms":
            continue
        found = True
        op = next(name for name, fn in OPS.items() if fn is compare)
        if op in ("ge", "eq"):
            low = max(low, value)
        if op == "gt":
            low = max(low, value + 1)
        if op == "lt":
            high = min(high, value)
        if op in ("le", "eq"):
            high = min(high, value + 1)
    return (low, high) if found else None


def record_filter(text: str, fields: dict[str, tuple[Callable[[dict], Any], set[str]]]
                  ) -> Callable[[dict], bool]:
    """A predicate over decoded records for the endpoints other than jobs: comparisons
    joined by `and`, each on a field the endpoint's document lists (name -> (how to read it
    from the record, the operators the document allows)); strings quoted, integers and
    booleans bare. FilterError otherwise."""
    tests: list[tuple[Callable[[dict], Any], Callable[[Any, Any], bool], Any]] = []
    for clause in _split_and(text) if text.strip() else []:
        match = _CLAUSE.match(clause)
        if not match or match.group(1) not in fields:
            raise FilterError(f"The OData filter criteria is invalid near '{clause.strip()}'.")
        name, op, literal = match.groups()
        read, allowed = fields[name]
        if op not in allowed:
            raise FilterError(f"The OData filter criteria is invalid: {op} on '{name}'.")
        value: Any
        if literal.startswith("'") and literal.endswith("'") and len(literal) > 1:
            value = literal[1:-1].replace("''", "'")
        elif literal in ("true", "false"):
            value = literal == "true"
        elif re.fullmatch(r"-?\d+", literal):
            value = int(literal)
        else:
            raise FilterError(f"The OData filter criteria is invalid: '{literal}'.")
        tests.append((read, OPS[op], value))

    def predicate(record: dict) -> bool:
        for read, compare, value in tests:
            actual = read(record)
            if actual is None or type(actual) is not type(value) or not compare(actual, value):
                return False
        return True

    return predicate
