"""Deterministic NetBackup jobs, storage, SLP images and licences, from a seed.

What nbu-push must publish for these records is computed in tests/truth/, not here.
"""

from __future__ import annotations

import base64
import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

OLD_CLIENT = "archive01.example.com"  # backed up once, 40 days ago
NEVER_BACKED_UP = ("new-client01.example.com", "new-client02.example.com")
JOB_TYPES = [("SNAPDUPE", 2), ("BACKUP", 70), ("DUPLICATE", 8), ("REPLICATE", 5), ("RESTORE", 4),
             ("SNAPSHOT", 5), ("DBBACKUP", 5), ("IMAGEDELETE", 3)]
POLICY_TYPES = [("STANDARD", 30), ("WINDOWS_NT", 20), ("VMWARE", 25), ("HYPERV", 5),
                ("ORACLE", 8), ("MS_SQL_SERVER", 7), ("NBU_CATALOG", 2), ("NDMP", 3)]
FAILURES = [2, 13, 24, 41, 50, 58, 71, 96, 150, 156, 196, 800, 2074]
STORAGE = [  # storageCategory, storageType, storageSubType, has capacity
    ("MSDP", "DISK", "PureDisk", True), ("ADVANCED_DISK", "DISK", "AdvancedDisk", True),
    ("BASIC_DISK", "DISK", "BasicDisk", True), ("TAPE", "Tape", "Tape", False),
    ("CLOUD", "DISK", "Cloud", False), ("OPEN_STORAGE", "DISK", "OpenStorage", True),
]


def iso_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"PT{hours}H{minutes}M{secs}S" if hours else f"PT{minutes}M{secs}S"


@dataclass
class Job:
    """The filterable and aggregated fields, plus the full record rendered once."""

    job_id: int
    end_ms: int | None
    start_ms: int
    state: str
    status: int
    job_type: str
    policy_type: str
    client: str
    parent_id: int
    child_count: int
    kb: int
    kb_data: int | None
    files: int
    rendered: bytes = b""

    @property
    def policy_name(self) -> str:
        """A client keeps its policy: one of three per policy type, by the client's name."""
        return f"{self.policy_type.lower()}-policy-{zlib.crc32(self.client.encode()) % 3}"

    def attributes(self, rng: random.Random) -> dict:
        end = self.end_ms
        elapsed = ((end - self.start_ms) // 1000) if end else 0
        attrs = {
            "jobId": self.job_id, "acceleratorOptimization": 0.0,
            "activeElapsedTime": _duration(elapsed), "activeProcessId": rng.randint(1000, 65000),
            "activeTryStartTime": iso_ms(self.start_ms), "applicationType": "",
            "auditDomainName": "", "auditDomainType": 0, "auditUserName": "",
            "assetID": f"asset-{self.job_id % 997}", "assetDisplayableName": self.client,
            "workloadDisplayName": self.policy_type.title(),
            "backupId": f"{self.client}_{self.start_ms // 1000}",
            "childCount": self.child_count, "clientName": self.client, "compression": 0,
            "compressionSpaceRatio": 0.0, "controlHost": "", "copyNumber": 1, "currentFile": "",
            "currentOperation": 0, "dataMovement": "STANDARD", "dteMode": "OFF",
            "dedupRatio": round(rng.uniform(1.0, 20.0), 2), "dedupSpaceRatio": 0.0,
            "destinationMediaId": "", "destinationStorageUnitName": "stu-msdp-0",
            "destinationMediaServerName": "media01.example.com", "dumpHost": "",
            "elapsedTime": _duration(elapsed), "estimatedFiles": self.files,
            "frozenImage": 0, "instanceDatabaseName": "", "jobGroup": "", "jobOwner": "root",
            "jobPath": (f"{self.parent_id}.{self.job_id}" if self.parent_id != self.job_id
                        else str(self.job_id)),
            "jobQueueReason": 0, "jobQueueResource": "", "jobSubType": "IMMEDIATE",
            "jobType": self.job_type, "cancellable": 0,
            "kilobytesToTransfer": self.kb, "kilobytesTransferred": self.kb,
            "lastUpdateTime": iso_ms(end or self.start_ms), "mainProcessId": 0,
            "numberOfFiles": self.files, "numberOfTapeToEject": 0, "offHostType": "STANDARD",
            "parentJobId": self.parent_id, "percentComplete": 100 if end else 40,
            "policyName": self.policy_name,
            "policyType": self.policy_type, "priority": 0, "profileName": "",
            "restartable": 0, "restoreBackupIDs": "", "resumable": 0, "retentionLevel": 1,
            "robotName": "", "scheduleName": "daily-incr",
            "scheduleType": "DIFFERENTIAL_INCREMENTAL",
            "sessionId": self.job_id // 10, "sourceMediaId": "", "sourceMediaServerName": "",
            "sourceStorageUnitName": "", "startTime": iso_ms(self.start_ms),
            "state": self.state, "status": self.status, "streamNumber": 0,
            "submissionType": 0, "suspendable": 0,
            "transferRate": self.kb // max(elapsed, 1), "transportType": "LAN", "try": 1,
            "vaultName": "",
        }
        if end is not None:
            attrs["endTime"] = iso_ms(end)
        if self.kb_data is not None:
            attrs["kilobytesDataTransferred"] = self.kb_data
        return attrs


@dataclass
class StorageUnit:
    name: str
    category: str
    storage_type: str
    free: int | None
    used: int | None
    total: int | None
    rendered: bytes = b""


@dataclass
class DiskPool:
    name: str
    server_type: str
    state: str
    raw: int | None
    usable: int | None
    available: int | None
    used: int | None
    high_percent: int
    low_percent: int
    rendered: bytes = b""


@dataclass
class SlpImage:
    slp: str
    state: str
    backup_ms: int
    client: str
    rendered: bytes = b""

    @property
    def cursor(self) -> str:
        """base64 of `backupTime:clientName`, as the vendor document describes."""
        raw = f"{iso_ms(self.backup_ms)}:{self.client}".encode()
        return base64.urlsafe_b64encode(raw).decode()


@dataclass
class Entitlement:
    entitlement_id: str
    license_type: str
    meter: str
    status: str
    end_ms: int
    service_end_ms: int
    license_count: int
    count_multiplier: float
    rendered: bytes = b""


@dataclass
class Dataset:
    anchor_ms: int
    jobs: list[Job]
    units: list[StorageUnit]
    pools: list[DiskPool] = field(default_factory=list)
    slp_images: list[SlpImage] = field(default_factory=list)  # oldest first
    consumption_mb: dict[str, float] = field(default_factory=dict)  # primary -> MB
    entitlements: list[Entitlement] = field(default_factory=list)


def finished_job(job_id: int, end_ms: int, rng: random.Random, base: str,
                 **fields: object) -> Job:
    """One ended leaf job (DONE unless `fields` say otherwise), rendered with all attributes."""
    values: dict = {"state": "DONE", "status": 0, "job_type": "BACKUP",
                    "policy_type": "STANDARD",
                    "client": f"client{rng.randint(1, 400):03d}.example.com",
                    "kb": rng.randint(0, 80_000_000), "files": rng.randint(0, 9999)}
    values.update(fields)
    job = Job(job_id, end_ms, end_ms - rng.randint(30_000, 3_600_000), values["state"],
              int(values["status"]), str(values["job_type"]), str(values["policy_type"]),
              str(values["client"]), int(values.get("parent_id", job_id)),
              int(values.get("child_count", 0)), int(values["kb"]),
              int(values["kb"]) * 2 // 5, int(values["files"]))
    job.rendered = render_job(job, base, rng)
    return job


# Restated here on purpose, not imported from nbu_push.collect: the simulator's statement of
# the trees it wrote (the tests' truth builds on it) must not share nbu-push's code
# (docs/metrics.md, "Which jobs count", is the one statement).
KIND_OF_JOB_TYPE = {"BACKUP": "backup", "SNAPDUPE": "backup", "SNAPSHOT": "snapshot",
                    "DUPLICATE": "duplicate", "REPLICATE": "replicate"}


def carriers(jobs: list[Job]) -> dict[int, str]:
    """The simulator's own statement, from the trees it wrote, of which jobs carry a verdict
    for their client and of which kind (job id -> kind): a job carries its kind unless its
    parent has the same client (a stream, copy or child of one backup; except a VM's backup
    below the VM's snapshot), and a root whose children name other clients (a discovery job)
    carries nothing."""
    by_id = {job.job_id: job for job in jobs}
    other_children = {job.parent_id for job in jobs if job.parent_id != job.job_id
                      and job.parent_id in by_id and by_id[job.parent_id].client != job.client}
    found: dict[int, str] = {}
    for job in jobs:
        kind = KIND_OF_JOB_TYPE.get(job.job_type)
        if kind is None or job.end_ms is None:
            continue
        parent = by_id.get(job.parent_id) if job.parent_id != job.job_id else None
        if parent is None and job.job_id in other_children:
            continue  # a discovery root
        if parent is not None and parent.client == job.client and (
                kind == "snapshot" or parent.job_type != "SNAPSHOT"):
            continue  # a stream or copy of its parent's backup (a VM's backup under the
            # VM's snapshot is the VM's own)
        found[job.job_id] = kind
    return found


def configured_clients(jobs: list[Job]) -> list[str]:
    """The clients named in policies: those backed up, one backed up 40 days ago, and two
    never backed up."""
    backups = {job_id for job_id, kind in carriers(jobs).items() if kind == "backup"}
    names = {job.client for job in jobs if job.job_id in backups}
    return sorted(names | {OLD_CLIENT, *NEVER_BACKED_UP})


def render_job(job: Job, base: str, rng: random.Random) -> bytes:
    href = f"{base}/admin/jobs/{job.job_id}"
    record = {
        "type": "job", "id": str(job.job_id),
        "links": {"self": {"href": href}, "try-logs": {"href": href + "/try-logs"},
                  "file-lists": {"href": href + "/file-lists"}},
        "meta": {"page": {"cursor": str(job.job_id)}},
        "attributes": job.attributes(rng),
    }
    return json.dumps(record, separators=(",", ":")).encode()


OLDER_JOBS_FROM_MS = 70 * 60_000  # the older fifth of the jobs ends this long ago or more


def generate(jobs: int = 5000, units: int = 12, seed: int = 1, anchor_ms: int | None = None,
             base: str = "https://nbu-primary.example.com:1556/netbackup",
             unit_names: list[str] | None = None,
             policy_types: list[tuple[str, int]] | None = None,
             burst: float = 0.0, slp_images: int = 300, finished: bool = False,
             hours: float = 5, job_trees: bool = True,
             catalog_root_type: str = "DBBACKUP") -> Dataset:
    """Jobs ending between `hours` (5) and 3 min before `anchor_ms` (outside the default
    2-minute settle delay); 80 % in the last 50 minutes,
    and of those the fraction `burst` within six minutes (30 to 36 minutes before).

    About 6 % of jobs are still ACTIVE, QUEUED, REQUEUED or SUSPENDED (no endTime), and one
    backup ended 40 days ago; with `finished`, neither: every job ended in those hours.
    About one backup in ten is a parent whose `kilobytesTransferred` repeats the sum of its
    children. With `job_trees` (not with `finished`), the job trees of shapes.py are added
    for their own clients, the catalog roots typed `catalog_root_type`.
    """
    rng = random.Random(seed)
    anchor = anchor_ms if anchor_ms is not None else int(datetime.now(timezone.utc)
                                                         .timestamp() * 1000)
    made: list[Job] = []
    job_id = 100_000
    while len(made) < jobs:
        job_id += 1
        recent = rng.random() < 0.8
        end: int | None = anchor - rng.randint(180_000, 50 * 60_000) if recent else \
            anchor - rng.randint(OLDER_JOBS_FROM_MS, int(hours * 3600_000))
        if recent and rng.random() < burst:  # a backup window: most jobs end together
            end = anchor - rng.randint(30 * 60_000, 36 * 60_000)
        state, status = "DONE", 0
        roll = rng.random() if not finished else 1.0
        if roll < 0.03:
            state, end = "ACTIVE", None
        elif roll < 0.05:
            state, end = "QUEUED", None
        elif roll < 0.055:
            state, end = "REQUEUED", None
        elif roll < 0.06:
            state, end = "SUSPENDED", None
        else:
            outcome = rng.random()
            if outcome < 0.08:
                status = 1
            elif outcome < 0.15:
                status = rng.choice(FAILURES)
                state = "INCOMPLETE" if rng.random() < 0.2 else "DONE"
        start = (end or anchor) - rng.randint(30_000, 3 * 3600_000)
        job_type, policy_type = _pick(rng, JOB_TYPES), _pick(rng, policy_types or POLICY_TYPES)
        client = f"client{rng.randint(1, 400):03d}.example.com"
        n_children = rng.randint(2, 4) if (job_type == "BACKUP" and state == "DONE"
                                             and rng.random() < 0.1
                                             and len(made) + 5 <= jobs) else 0
        children: list[Job] = []
        per_vm = policy_type in ("VMWARE", "HYPERV") and n_children > 0
        vms = rng.sample(range(1, 121), n_children)
        for vm in vms:
            job_id += 1
            kb = rng.randint(1_000, 50_000_000)
            # VMware and Hyper-V: the parent discovers VMs on the vCenter, a child per VM
            child_client = f"vm{vm:03d}.example.com" if per_vm else client
            children.append(Job(job_id, end, start, "DONE", status, job_type, policy_type,
                                child_client, job_id - len(children) - 1, 0, kb,
                                int(kb * rng.uniform(0.05, 0.9)), rng.randint(10, 200_000)))
        parent_id = job_id - n_children
        for child in children:
            child.parent_id = parent_id
        kb = sum(c.kb for c in children) or rng.randint(0, 80_000_000)
        kb_data = None if rng.random() < 0.05 else int(kb * rng.uniform(0.05, 0.9))
        files = sum(c.files for c in children) or rng.randint(0, 500_000)
        made.append(Job(parent_id, end, start, state, status, job_type, policy_type,
                        "vcenter01.example.com" if per_vm else client, parent_id, n_children,
                        kb, kb_data, files))
        made.extend(children)
    made = made[:jobs - 1] if jobs and not finished else made[:jobs]
    if jobs and not finished:  # a client whose last good backup is older than any backfill
        made.append(Job(job_id + 1, anchor - 40 * 86_400_000, anchor - 40 * 86_400_000 - 600_000,
                        "DONE", 0, "BACKUP", "STANDARD", OLD_CLIENT, job_id + 1, 0, 1000, 500,
                        10))
    if job_trees and not finished:
        from .shapes import job_trees as trees  # shapes.py builds on Job

        made.extend(trees(anchor, job_id + 10, catalog_root_type))
    for job in made:
        job.rendered = render_job(job, base, rng)

    stus = []
    for index in range(units):
        category, storage_type, subtype, has_capacity = STORAGE[index % len(STORAGE)]
        total = rng.randint(10, 500) * 1024**4 if has_capacity else None
        used = int(total * rng.uniform(0.1, 0.97)) if total else None
        free = total - used if total and used is not None else None
        name = (unit_names[index] if unit_names and index < len(unit_names)
                else f"stu-{category.lower().replace('_', '-')}-{index}")
        stus.append(StorageUnit(name, category, storage_type, free, used, total))
        attrs = {
            "name": name, "storageCategory": category, "storageType": storage_type,
            "storageSubType": subtype, "storageServerType": subtype, "isCloudSTU":
            category == "CLOUD", "maxFragmentSizeMegabytes": 524288, "wormCapable": False,
            "useWorm": False, "onDemandOnly": False, "useAnyAvailableMediaServer": True,
        }
        if category == "TAPE":
            attrs["maxConcurrentDrives"] = 4
        else:
            attrs["maxConcurrentJobs"] = 20
        if has_capacity:
            attrs.update(freeCapacityBytes=free, totalCapacityBytes=total,
                         usedCapacityBytes=used)
        record = {"type": "storageUnit", "id": name,
                  "links": {"self": {"href": f"{base}/storage/storage-units/{name}"}},
                  "attributes": attrs,
                  "relationships": {"diskPool": {"data": {"type": "diskPool",
                                                          "id": f"dp-{index}"}}}}
        stus[-1].rendered = json.dumps(record, separators=(",", ":")).encode()
    return Dataset(anchor, made, stus, _pools(rng, stus), _slp_images(rng, anchor, slp_images),
                   {"nbu-primary.example.com": round(rng.uniform(1e5, 9e6), 2)},
                   _entitlements(rng, anchor))


SLP_STATES = ["NOT_MANAGED", "NOT_STARTED", "IN_PROCESS", "COMPLETE", "DELETED",
              "NOT_STARTED|INACTIVE", "IN_PROCESS|INACTIVE"]


def _pools(rng: random.Random, units: list[StorageUnit]) -> list[DiskPool]:
    """One pool per disk unit with capacity, one DOWN, plus a cloud pool without sizes."""
    pools = []
    for index, unit in enumerate(u for u in units if u.total):
        usable = unit.total or 0
        pools.append(DiskPool(f"dp-{index}", "PureDisk" if index % 2 else "AdvancedDisk",
                              "DOWN" if index == 1 else "UP", int(usable * 1.02), usable,
                              unit.free, unit.used, rng.choice([95, 98]), rng.choice([80, 85])))
    pools.append(DiskPool("dp-cloud", "Cloud", "UP", None, None, None, None, 98, 80))
    for pool in pools:
        attrs = {"name": pool.name, "sType": pool.server_type, "storageCategory": "MSDP",
                 "diskPoolState": pool.state, "highWaterMark": pool.high_percent,
                 "lowWaterMark": pool.low_percent, "wormCapable": False,
                 "mediaServersCount": 1, "readOnly": False, "diskVolumes": []}
        for key, value in (("rawSizeBytes", pool.raw), ("usableSizeBytes", pool.usable),
                           ("availableSpaceBytes", pool.available),
                           ("usedCapacityBytes", pool.used)):
            if value is not None:
                attrs[key] = value
        pool.rendered = json.dumps({"type": "diskPool", "id": pool.name, "attributes": attrs},
                                   separators=(",", ":")).encode()
    return pools


def _slp_images(rng: random.Random, anchor: int, count: int) -> list[SlpImage]:
    """SLP-managed images in every state, ascending by (backupTime, clientName)."""
    images = [SlpImage(rng.choice(["slp-dup-tape", "slp-replicate-dr", "slp-cloud-tier"]),
                       rng.choice(SLP_STATES), anchor - rng.randint(60_000, 3 * 86_400_000),
                       f"client{rng.randint(1, 400):03d}.example.com") for _ in range(count)]
    images.sort(key=lambda image: (image.backup_ms, image.client))
    for image in images:
        image.rendered = json.dumps({"type": "slpImage", "id": f"{image.client}_{image.backup_ms}",
                                     "attributes": {
            "backupId": f"{image.client}_{image.backup_ms // 1000}", "clientName": image.client,
            "policyName": "policy-1", "scheduleType": "FULL", "policyType": "STANDARD",
            "backupTime": iso_ms(image.backup_ms), "slpName": image.slp,
            "slpImageState": image.state, "isStorageLifecycleInactive":
            image.state.endswith("INACTIVE"), "slpVersion": 1, "copies": []}},
            separators=(",", ":")).encode()
    return images


def _entitlements(rng: random.Random, anchor: int) -> list[Entitlement]:
    day = 86_400_000
    made = [Entitlement("ENT-1001", "SUBSCRIPTION", "FETB", "ACTIVE", anchor + 200 * day,
                        anchor + 180 * day, rng.randint(20, 200), 1.0),
            Entitlement("ENT-1002", "PERPETUAL", "CPU", "ACTIVE", anchor + 3000 * day,
                        anchor + 20 * day, 8, 1.0),
            Entitlement("ENT-0999", "SUBSCRIPTION", "FETB", "EXPIRED", anchor - 30 * day,
                        anchor - 30 * day, 10, 2.0)]
    for item in made:
        item.rendered = json.dumps({"type": "entitlementDetails", "id": item.entitlement_id,
                                    "attributes": {
            "entitlementId": item.entitlement_id, "licenseType": item.license_type,
            "licenseMeter": item.meter, "status": item.status, "endDate": iso_ms(item.end_ms),
            "serviceExpiration": iso_ms(item.service_end_ms),
            "serviceStartDate": iso_ms(anchor - 365 * day), "licenseCount": item.license_count,
            "countMultiplier": item.count_multiplier, "productId": "NETBACKUP",
            "productName": "NetBackup Enterprise"}}, separators=(",", ":")).encode()
    return made
