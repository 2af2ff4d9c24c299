"""Check requests and responses against testdata/netbackup-contract.json."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

CONTRACT = json.loads((Path(__file__).resolve().parent.parent / "testdata"
                       / "netbackup-contract.json").read_text())
ENDPOINTS = CONTRACT["endpoints"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CLAUSE = re.compile(r"^(\w+) (eq|ne|lt|gt|le|ge) (.+)$")


def type_ok(value: object, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "date-time":
        return isinstance(value, str) and bool(TIMESTAMP.match(value))
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "boolean":
        return isinstance(value, bool)
    raise AssertionError(f"unknown contract type {kind}")


def check_filter(text: str, rules: dict) -> None:
    for clause in text.split(" and "):
        match = CLAUSE.match(clause)
        assert match, f"filter clause {clause!r} is not `field op literal`"
        field, op, literal = match.groups()
        assert field in rules["fields"], f"filter field {field} is not in the contract"
        rule = rules["fields"][field]
        assert op in rule["ops"], f"{field} does not accept {op}"
        if rule["type"] == "date-time":
            assert TIMESTAMP.match(literal), f"{literal!r}: unquoted UTC with milliseconds"
        elif rule["type"] == "integer":
            assert re.fullmatch(r"-?\d+", literal), literal
        elif rule["type"] == "boolean":
            assert literal in ("true", "false"), literal
        else:
            assert literal.startswith("'") and literal.endswith("'"), literal


def check_request(method: str, path: str, raw_query: str, headers: dict,
                  body: bytes = b"") -> None:
    """One request nbu-push sent; `path` is below /netbackup."""
    key = f"{method} {path}"
    assert key in ENDPOINTS, f"{key} is not an endpoint of the contract"
    endpoint = ENDPOINTS[key]
    assert "+" not in raw_query, f"{raw_query}: spaces must be %20"
    assert "%25" not in raw_query, f"{raw_query}: encoded twice"
    pairs = [item.partition("=") for item in raw_query.split("&") if item]
    names = [urllib.parse.unquote(name) for name, _, _ in pairs]
    assert len(names) == len(set(names)), f"repeated parameter in {raw_query}"
    for name, _, raw_value in pairs:
        name, value = urllib.parse.unquote(name), urllib.parse.unquote(raw_value)
        assert name in endpoint["query"], f"{key}: {name} is not a parameter"
        rule = endpoint["query"][name]
        if rule["type"] == "integer":
            number = int(value)
            assert rule.get("minimum", number) <= number <= rule.get("maximum", number), (
                f"{name}={number} outside the contract")
        if name == "filter":
            check_filter(value, endpoint["filter"])
        if name == "sort":
            assert value in endpoint["sort"], value
    if endpoint["pagination"] == "cursor":
        assert "page[offset]" not in names
    if "body_type" in endpoint:  # jobs-count-requests: the filter lives in the body
        document = json.loads(body)
        assert document["data"]["type"] == endpoint["body_type"]
        jobs_filter = ENDPOINTS["GET /admin/jobs"]["filter"]
        count_rules = {"combinators": ["and"], "fields": {
            name: rule for name, rule in jobs_filter["fields"].items()
            if name in endpoint["filter_fields"]}}
        check_filter(document["data"]["attributes"]["filter"], count_rules)
    lowered = {k.lower(): v for k, v in headers.items()}
    if key != "GET /ping":
        version = lowered.get("accept", "").partition(";version=")[2]
        assert lowered.get("accept") == CONTRACT["media_type"].format(version=version)
        assert version in CONTRACT["versions"] or re.fullmatch(r"\d+\.\d+", version)
    if endpoint["authenticated"]:
        credential = lowered.get("authorization", "")
        assert credential and not credential.lower().startswith(("bearer ", "basic "))
    else:
        assert "authorization" not in lowered


def check_list_response(key: str, document: dict) -> None:
    """A page the simulator served for a list endpoint."""
    endpoint = ENDPOINTS[key]
    assert isinstance(document.get("data"), list)
    if "pagination_meta" not in endpoint:  # e.g. /licensing/entitlements: no meta at all
        assert "meta" not in document
    pagination = document.get("meta", {}).get("pagination", {})
    for name, value in pagination.items():
        assert name in endpoint["pagination_meta"], f"{key}: meta.pagination.{name}"
        assert type_ok(value, endpoint["pagination_meta"][name]), (name, value)
    for item in document["data"]:
        for name, kind in endpoint["item"].items():
            assert type_ok(item[name], kind), (name, item[name])
        for name, kind in endpoint["attributes"].items():
            if name in item["attributes"]:
                assert type_ok(item["attributes"][name], kind), (name, item["attributes"][name])
