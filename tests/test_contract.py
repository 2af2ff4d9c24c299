"""The contract file against the vendor OpenAPI documents, nbu-push's requests against the
contract, and the simulator's responses against the contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import requests
import yaml

from nbu_push.collect.base import CollectContext
from nbu_push.collect.jobs import collect_jobs
from nbu_push.collect.storage import collect_storage
from nbu_push.netbackup.client import NetBackupClient
from nbu_push.netbackup.query import build_query
from nbu_push.simulator import Simulator, generate

from .cli import sim_env
from .conftest import SHARED
from .contract import CONTRACT, ENDPOINTS, check_list_response, check_request, type_ok

SPECS = SHARED / "reference" / "netbackup-openapi"


@pytest.fixture(scope="module")
def specs():
    if not SPECS.is_dir():
        if os.environ.get("NBU_PUSH_REQUIRE_BINARIES") == "1":
            pytest.fail(f"the vendor OpenAPI documents are missing at {SPECS}")
        pytest.skip("vendor OpenAPI documents not present")
    cache: dict[str, dict] = {}

    def load(name: str) -> dict:
        if name not in cache:
            cache[name] = yaml.safe_load((SPECS / name).read_text())
        return cache[name]

    return load


def resolve(spec: dict, schema: dict) -> dict:
    """Follow a local `$ref` (`#/components/...`); other documents' refs stay as they are."""
    while "$ref" in schema and schema["$ref"].startswith("#/"):
        node = spec
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def success_schema(specs, spec_name: str, operation: dict, status: int = 200
                   ) -> tuple[dict, dict]:
    """(the document it is in, the response schema): a `$ref` into another document is
    followed to that document in the same release, or, where the vendor ships it with
    another release only (config_snapshotProviders.yaml, 11.0), to that one."""
    spec = specs(spec_name)
    schema = next(iter(operation["responses"][str(status)]["content"].values()))["schema"]
    ref = schema.get("$ref", "")
    if ref.startswith("./"):
        document, _, pointer = ref[2:].partition("#/")
        candidates = [spec_name.split("/")[0] + "/" + document] + [
            f"{release.name}/{document}" for release in sorted(SPECS.iterdir())]
        spec = specs(next(name for name in candidates if (SPECS / name).is_file()))
        schema = {"$ref": "#/" + pointer}
    return spec, resolve(spec, schema)


def nested_type(spec: dict, attributes: dict, dotted: str) -> str:
    """The type of `devicePaths[].pathStatus` or `robot.robotType` in an attributes schema."""
    names = dotted.split(".")
    schema = resolve(spec, attributes[names[0].removesuffix("[]")])
    if names[0].endswith("[]"):
        schema = resolve(spec, schema["items"])
    for name in names[1:]:
        schema = resolve(spec, properties(schema)[name.removesuffix("[]")])
        if name.endswith("[]"):
            schema = resolve(spec, schema["items"])
    return spec_type(schema)


def properties(schema: dict) -> dict:
    found = dict(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            found.update(properties(part))
    return found


def spec_type(schema: dict) -> str:
    if schema.get("format") == "date-time":
        return "date-time"
    return schema["type"]


def filter_table(description: str) -> dict[str, set[str]]:
    rows = re.findall(r"^\|(\w+)\|([^|]*)\|", description, re.MULTILINE)
    return {name: set(re.split(r"[,\s]+", ops.strip())) for name, ops in rows}


@pytest.mark.parametrize("key", sorted(ENDPOINTS))
def test_contract_matches_the_vendor_specs(specs, key):
    method, path = key.split(" ", 1)
    endpoint = ENDPOINTS[key]
    for spec_name in CONTRACT["specs"][path]:
        operation = specs(spec_name)["paths"][path][method.lower()]
        params = {p["name"]: p["schema"] for p in operation.get("parameters", [])
                  if p["in"] == "query"}
        assert set(endpoint["query"]) == set(params), spec_name
        for name, rule in endpoint["query"].items():
            for field in ("type", "minimum", "maximum"):
                assert rule.get(field) == params[name].get(field), (spec_name, name, field)
        assert (operation.get("security") == []) == (not endpoint["authenticated"])
        success = operation["responses"][str(endpoint.get("status", 200))]
        for media_type in success.get("content", {}):
            version = media_type.rpartition("version=")[2]
            assert CONTRACT["versions"][version] == spec_name.split("/")[0]
        for header in endpoint.get("response_headers", []):
            assert header in success["headers"]
        if "filter" in endpoint:
            table = filter_table(next(p for p in operation["parameters"]
                                      if p["name"] == "filter")["description"])
            for field, rule in endpoint["filter"]["fields"].items():
                assert set(rule["ops"]) <= table[field], (field, table[field])
        if "sort" in endpoint and spec_name in endpoint.get("sort_documented_in", [spec_name]):
            sort = next(p for p in operation["parameters"] if p["name"] == "sort")
            for value in endpoint["sort"]:
                assert f"|{value.lstrip('-')}|" in sort["description"]
        if "attributes" in endpoint or "pagination_meta" in endpoint:
            spec, schema = success_schema(specs, spec_name, operation,
                                          endpoint.get("status", 200))
            item = resolve(spec, schema["properties"]["data"]["items"])
            attributes = properties(resolve(spec, item["properties"]["attributes"]))
            for name, kind in endpoint["attributes"].items():
                assert spec_type(resolve(spec, attributes[name])) == kind, (spec_name, name)
            for dotted, kind in endpoint.get("nested", {}).items():
                assert nested_type(spec, attributes, dotted) == kind, (spec_name, dotted)
            for name, kind in endpoint["item"].items():
                assert spec_type(item["properties"][name]) == kind, (spec_name, name)
            pagination = (schema["properties"]["meta"]["properties"]["pagination"]
                          if "pagination_meta" in endpoint else {"$ref": "none"})
            if "$ref" not in pagination:  # slp-images: in common.yaml, which is not shipped
                meta = pagination["properties"]
                for name, kind in endpoint["pagination_meta"].items():
                    assert spec_type(meta[name]) == kind, (spec_name, name)
        if "list" in endpoint:  # not the JSON:API envelope: {"certificateList": [...]}
            spec, schema = success_schema(specs, spec_name, operation)
            items = resolve(spec, properties(schema)[endpoint["list"]]["items"])
            for name, kind in endpoint["list_item"].items():
                assert spec_type(resolve(spec, properties(items)[name])) == kind, name
        if "body_type" in endpoint:
            body = next(iter(operation["requestBody"]["content"].values()))["schema"]
            data = body["properties"]["data"]
            assert data["properties"]["type"]["enum"] == [endpoint["body_type"]]
            description = data["properties"]["attributes"]["properties"]["filter"]
            for field in endpoint["filter_fields"]:
                assert re.search(rf"\b{field}\b", description["description"]), field
        if "body" in endpoint:
            body = next(iter(operation["requestBody"]["content"].values()))["schema"]
            assert set(endpoint["body"]) <= set(body["properties"])
            assert set(body["required"]) == set(endpoint["body_required"])
            response = next(iter(success["content"].values()))["schema"]["properties"]
            for name, kind in endpoint["response"].items():
                assert spec_type(response[name]) == kind


def test_error_body_matches_the_spec(specs):
    for spec_name, path, method, status in [("10.5/admin.yaml", "/admin/jobs", "get", "400"),
                                            ("11.2/admin.yaml", "/admin/jobs", "get", "503"),
                                            ("10.5/storage.yaml", "/storage/storage-units",
                                             "get", "401")]:
        response = specs(spec_name)["paths"][path][method]["responses"][status]
        schema = next(iter(response["content"].values()))["schema"]
        for name, kind in CONTRACT["error_body"].items():
            assert spec_type(schema["properties"][name]) == kind
        assert set(schema["required"]) == {"errorCode", "errorMessage"}


def test_collector_requests_fit_the_contract(requests_mock):
    base = "https://nbu:1556/netbackup"
    pages = iter(range(1, 100))
    requests_mock.get(base + "/admin/jobs", json=lambda r, c: (
        {"data": [{"attributes": {}}], "meta": {"pagination": {"next": str(next(pages))}}}
        if "page%5Bafter%5D=3" not in r.url else {"data": []}))
    requests_mock.get(base + "/storage/storage-units", json=lambda r, c: {
        "data": [{"attributes": {"name": "u"}}] * 500, "meta": {"pagination": {"count": 1200}}})
    requests_mock.post(base + "/admin/jobs-count-requests", json={
        "data": {"type": "jobCount", "attributes": {"count": 5}}})
    client = NetBackupClient(base)
    client.set_credential("key")
    client.api_version = "13.0"
    collect_jobs(client, CollectContext(now=1.77e9, concurrency=3))
    collect_storage(client, CollectContext(now=1.77e9))
    assert requests_mock.call_count > 6
    for request in requests_mock.request_history:
        raw_query = request.url.partition("?")[2]
        check_request(request.method, request.path.removeprefix("/netbackup"), raw_query,
                      dict(request.headers), request.body or b"")
    assert sum(r.method == "POST" for r in requests_mock.request_history) == 3


@pytest.mark.parametrize("login", [False, True])
def test_every_request_of_a_real_run_fits_the_contract(login, tmp_path):
    with Simulator(jobs=4000, units=5) as sim:
        env = sim_env(sim)
        if login:
            del env["NBU_API_KEY"]
            env.update(NBU_USERNAME=sim.username, NBU_PASSWORD=sim.password)
        result = subprocess.run([sys.executable, "-m", "nbu_push", "--dry-run"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert len(sim.requests) > 25
        for request in sim.requests:
            check_request(request.method, request.path, request.raw_query, request.headers,
                          request.body)
        if login:
            body = next(r.body for r in sim.requests if r.path == "/login")
            assert set(json.loads(body)) <= set(
                ENDPOINTS["POST /login"]["body"])


def test_simulator_responses_fit_the_contract():
    with Simulator(jobs=700, units=14) as sim:
        headers = {"Accept": "application/vnd.netbackup+json;version=14.0",
                   "Authorization": sim.api_key}
        get = lambda path, **params: requests.get(sim.url + path, params=params,  # noqa: E731
                                                  headers=headers, timeout=5)
        cursor, seen = None, 0
        while True:
            params = {"page[limit]": 100, "sort": "jobId"}
            if cursor:
                params["page[after]"] = cursor
            document = get("/admin/jobs", **params).json()
            check_list_response("GET /admin/jobs", document)
            seen += len(document["data"])
            cursor = document["meta"]["pagination"].get("next")
            if not cursor:
                break
        assert seen == len(sim.dataset.jobs) >= 700  # the job trees of shapes.py too
        cursor, seen = None, 0
        while True:
            params = {"page[limit]": 40, "filter": "slpImageState eq 'NOT_STARTED'"}
            if cursor:
                params["page[after]"] = cursor
            document = requests.get(f"{sim.url}/catalog/slp-images?{build_query(params)}",
                                    headers=headers, timeout=5).json()
            check_list_response("GET /catalog/slp-images", document)
            seen += len(document["data"])
            cursor = document["meta"]["pagination"].get("next")
            if not cursor:
                break
        assert seen == sum(i.state == "NOT_STARTED" for i in sim.dataset.slp_images) > 40
        for path in ("/licensing/capacity", "/licensing/entitlements"):
            check_list_response(f"GET {path}", get(path, **{"page[limit]": 2}).json())
        for path in ("/storage/storage-units", "/storage/disk-pools"):
            for offset in (0, 5, 10):
                document = get(path, **{"page[limit]": 5, "page[offset]": offset}).json()
                check_list_response(f"GET {path}", document)
                assert document["meta"]["pagination"]["offset"] == offset
        ping = requests.get(sim.url + "/ping", timeout=5)
        assert ping.headers["X-NetBackup-API-Version"] == "14.0"


@pytest.mark.parametrize("path,params,status,code", [
    ("/admin/jobs", {"page[limit]": 101}, 400, None),
    ("/admin/jobs", {"page[limit]": -1}, 400, None),
    ("/admin/jobs", {"filter": "endTime ge '2026-01-01T00:00:00.000Z'"}, 400, 9401),
    ("/admin/jobs", {"filter": "endTime+ge+2026-01-01T00:00:00.000Z"}, 400, 9401),
    ("/admin/jobs", {"page[after]": "no-such-cursor"}, 400, None),
    ("/storage/storage-units", {"page[limit]": 0}, 400, None),
    ("/storage/storage-units", {"page[limit]": 501}, 400, None),
    ("/storage/storage-units", {"page[offset]": -1}, 400, None),
])
def test_simulator_enforces_the_limits(path, params, status, code):
    with Simulator(jobs=20) as sim:
        query = "&".join(f"{requests.utils.quote(k)}={requests.utils.quote(str(v), safe='+')}"
                         for k, v in params.items())
        response = requests.get(f"{sim.url}{path}?{query}", timeout=5, headers={
            "Accept": "application/vnd.netbackup+json;version=12.0",
            "Authorization": sim.api_key})
    assert response.status_code == status
    body = response.json()
    assert isinstance(body["errorCode"], int) and isinstance(body["errorMessage"], str)
    if code:
        assert body["errorCode"] == code


def test_simulator_refuses_unknown_versions_and_missing_credentials():
    with Simulator(jobs=5, versions=("12.0",)) as sim:
        wrong = requests.get(sim.url + "/admin/jobs", timeout=5, headers={
            "Accept": "application/vnd.netbackup+json;version=14.0",
            "Authorization": sim.api_key})
        anonymous = requests.get(sim.url + "/admin/jobs", timeout=5, headers={
            "Accept": "application/vnd.netbackup+json;version=12.0"})
        bearer = requests.get(sim.url + "/admin/jobs", timeout=5, headers={
            "Accept": "application/vnd.netbackup+json;version=12.0",
            "Authorization": "Bearer " + sim.api_key})
    assert wrong.status_code == 406 and "errorMessage" in wrong.json()
    assert anonymous.status_code == 401 and bearer.status_code == 401


@pytest.mark.parametrize("path,spec_name,records", [
    ("/admin/jobs", "10.5/admin.yaml", lambda d: [j.rendered for j in d.jobs]),
    ("/storage/storage-units", "10.5/storage.yaml", lambda d: [u.rendered for u in d.units]),
    ("/storage/disk-pools", "11.0/storage.yaml", lambda d: [p.rendered for p in d.pools]),
    ("/catalog/slp-images", "11.0/catalog.yaml", lambda d: [i.rendered for i in d.slp_images]),
    ("/licensing/entitlements", "11.0/licensing.yaml",
     lambda d: [e.rendered for e in d.entitlements]),
])
def test_simulator_records_use_only_vendor_attributes(specs, path, spec_name, records):
    spec = specs(spec_name)
    operation = spec["paths"][path]["get"]
    schema = resolve(spec, next(iter(operation["responses"]["200"]["content"].values()))
                     ["schema"])
    item = resolve(spec, schema["properties"]["data"]["items"])
    known = set(properties(resolve(spec, item["properties"]["attributes"])))
    emitted: set[str] = set()
    for record in records(generate(jobs=300, units=12)):
        document = json.loads(record)
        assert set(document) <= set(item["properties"]), set(document) - set(item["properties"])
        emitted |= set(document["attributes"])
    assert emitted <= known, emitted - known
    if path == "/admin/jobs":
        assert emitted == known  # the full vendor record: realistic sizes


def test_the_verdict_rule_names_only_vendor_job_and_policy_types(specs):
    """Every jobType the verdict rule matches on is in the vendor's enum of every admin
    document, and every policyType in at least one (a newer release adds some): a misspelt
    value would never match."""
    from nbu_push.collect._verdict import DISCOVERY_POLICIES, KIND_OF_JOB_TYPE

    known_policy_types: set[str] = set()
    for spec_name in CONTRACT["specs"]["/admin/jobs"]:
        spec = specs(spec_name)
        operation = spec["paths"]["/admin/jobs"]["get"]
        schema = resolve(spec, next(iter(operation["responses"]["200"]["content"].values()))
                         ["schema"])
        item = resolve(spec, schema["properties"]["data"]["items"])
        attributes = properties(resolve(spec, item["properties"]["attributes"]))
        job_types = set(resolve(spec, attributes["jobType"])["enum"])
        assert set(KIND_OF_JOB_TYPE) <= job_types, (spec_name, set(KIND_OF_JOB_TYPE) - job_types)
        known_policy_types |= set(resolve(spec, attributes["policyType"])["enum"])
    wanted = DISCOVERY_POLICIES | {"NBU_CATALOG"}
    assert wanted <= known_policy_types, wanted - known_policy_types


SERVED = {  # path -> (spec, the records the simulator serves there)
    "/storage/drives": ("11.0/storage.yaml", lambda sim: sim.records["drives"]),
    "/storage/tape-media": ("11.0/storage.yaml",
                            lambda sim: [r for _, r in sim.records["tape_media"]["media"]]),
    "/storage/tape-volume-pools": ("11.0/storage.yaml",
                                   lambda sim: [r for _, r in sim.records["tape_media"]["pools"]]),
    "/storage/storage-servers": ("11.0/storage.yaml", lambda sim: sim.records["storage_servers"]),
    "/config/media-servers": ("11.2/config.yaml", lambda sim: sim.records["media_servers"]),
    "/security/anomalies": ("11.2/security.yaml", lambda sim: rendered(sim.records["anomalies"])),
    "/malware/latest-scan-results": ("11.2/malware.yaml",
                                     lambda sim: rendered(sim.records["malware"])),
    "/manage/alerts": ("11.2/manage.yaml", lambda sim: rendered(sim.records["alerts"]["alerts"])),
    "/security/certificate-authorities": (
        "11.2/security.yaml", lambda sim: rendered(sim.records["certificates"]["cas"])),
}


def rendered(records: list[dict]) -> list[bytes]:
    return [json.dumps(record).encode() for record in records]


@pytest.mark.parametrize("path", sorted(SERVED))
def test_simulator_pages_fit_the_contract_to_the_end(specs, path):
    """Every page of a small page size fits the contract, the pages hold every record once,
    and the records use only the vendor's attributes (nested ones too)."""
    endpoint = ENDPOINTS[f"GET {path}"]
    with Simulator(jobs=20) as sim:
        headers = {"Accept": "application/vnd.netbackup+json;version=13.0",
                   "Authorization": sim.api_key}
        records = SERVED[path][1](sim)
        seen: list[str] = []
        params: dict[str, object] = {"page[limit]": 2}
        while True:
            document = requests.get(f"{sim.url}{path}?{build_query(params)}", headers=headers,
                                    timeout=5).json()
            check_list_response(f"GET {path}", document)
            seen += [item.get("id") for item in document["data"]]
            following = document["meta"]["pagination"].get("next")
            if following is None:
                break
            key = "page[after]" if endpoint["pagination"] == "cursor" else "page[offset]"
            params[key] = following
    assert sorted(map(str, seen)) == sorted(str(json.loads(r).get("id")) for r in records)
    assert len(seen) > 1
    spec, schema = success_schema(specs, SERVED[path][0], specs(SERVED[path][0])["paths"][path]
                                  ["get"])
    item = resolve(spec, schema["properties"]["data"]["items"])
    known = properties(resolve(spec, item["properties"]["attributes"]))
    for record in map(json.loads, records):
        assert set(record) <= set(item["properties"])
        assert set(record["attributes"]) <= set(known), set(record["attributes"]) - set(known)
        for name, value in record["attributes"].items():
            inner = resolve(spec, known[name])
            for element in (value if isinstance(value, list) else [value]):
                if isinstance(element, dict):
                    shape = resolve(spec, inner.get("items", inner))
                    assert set(element) <= set(properties(shape)), (name, element)


def test_simulator_certificate_list_fits_the_contract(specs):
    endpoint = ENDPOINTS["GET /security/certificates"]
    with Simulator(jobs=20) as sim:
        query = build_query({"filter": "isCertDeleted eq false"})
        response = requests.get(f"{sim.url}/security/certificates?{query}", timeout=5, headers={
            "Accept": "application/vnd.netbackup+json;version=13.0",
            "Authorization": sim.api_key})
        hosts = sim.records["certificates"]["hosts"]
    listed = response.json()[endpoint["list"]]
    assert len(listed) == sum(not h["isCertDeleted"] for h in hosts) < len(hosts)
    spec, schema = success_schema(specs, "11.2/security.yaml", specs("11.2/security.yaml")[
        "paths"]["/security/certificates"]["get"])
    known = properties(resolve(spec, properties(schema)[endpoint["list"]]["items"]))
    for item in listed:
        assert set(item) <= set(known)
        for name, kind in endpoint["list_item"].items():
            assert type_ok(item[name], kind), (name, item[name])
