"""Job trees as NetBackup writes them (docs/metrics.md "Which jobs count"), each for its own
clients, ending in the hour before the anchor:

- a multistream backup whose root and one stream failed, after a good one;
- VMware and Hyper-V discovery: a root on the vCenter or host, per VM a SNAPSHOT job and
  below it the VM's BACKUP job; one VM's backup failed after a good snapshot;
- SLP snapshots: Backup From Snapshot (SNAPDUPE) late, failed or missing, and a snapshot
  after a backup copy;
- hot catalog backups: a root (typed `catalog_root_type`) with a DBBACKUP staging child and
  BACKUP children, the newest root failed while its children succeeded;
- multiple copies under one root, then a duplicate, a replicate and a failed replicate;
- an Oracle client: an automatic job with application-backup children, then a
  user-directed job of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .data import Job

PRIMARY = "nbu-primary.example.com"
MINUTE = 60_000


@dataclass
class _Trees:
    anchor: int
    next_id: int
    jobs: list[Job]

    def job(self, minutes_ago: float, job_type: str, policy_type: str, client: str,
            status: int = 0, parent: Job | None = None, kb: int = 1000) -> Job:
        self.next_id += 1
        end = self.anchor - int(minutes_ago * MINUTE)
        job = Job(self.next_id, end, end - 10 * MINUTE, "DONE", status, job_type, policy_type,
                  client, parent.job_id if parent else self.next_id, 0, kb, kb // 2, 10)
        if parent is not None:
            parent.child_count += 1
            parent.kb += kb
        self.jobs.append(job)
        return job


def job_trees(anchor: int, first_id: int, catalog_root_type: str = "DBBACKUP") -> list[Job]:
    t = _Trees(anchor, first_id, [])
    for minutes_ago, root_status, stream_statuses in ((55, 0, (0, 0)), (20, 13, (0, 13, 0))):
        root = t.job(minutes_ago, "BACKUP", "STANDARD", "ms-failed.example.com", root_status)
        for status in stream_statuses:
            t.job(minutes_ago + 1, "BACKUP", "STANDARD", "ms-failed.example.com", status, root)
    for policy_type, host, vms in (("VMWARE", "vcenter02.example.com", ("vm-a", "vm-b")),
                                   ("HYPERV", "hv-host01.example.com", ("vm-c", "vm-d"))):
        root = t.job(30, "BACKUP", policy_type, host, 1)
        for vm, backup_status in zip(vms, (0, 156), strict=True):
            client = f"{vm}.example.com"
            snapshot = t.job(40, "SNAPSHOT", policy_type, client, 0, root)
            t.job(31, "BACKUP", policy_type, client, backup_status, snapshot)
    for client, snapdupe in (("nas-late", 0), ("nas-dupe-failed", 156), ("nas-snap-only", None)):
        t.job(50, "SNAPSHOT", "NDMP", f"{client}.example.com")
        if snapdupe is not None:
            t.job(8, "SNAPDUPE", "NDMP", f"{client}.example.com", snapdupe)
    t.job(50, "SNAPDUPE", "NDMP", "nas-copy-then-snap.example.com")
    t.job(10, "SNAPSHOT", "NDMP", "nas-copy-then-snap.example.com")
    for minutes_ago, root_status in ((58, 0), (6, 2)):
        root = t.job(minutes_ago, catalog_root_type, "NBU_CATALOG", PRIMARY, root_status)
        t.job(minutes_ago + 2, "DBBACKUP", "NBU_CATALOG", PRIMARY, 0, root)
        for _ in range(2):
            t.job(minutes_ago + 1, "BACKUP", "NBU_CATALOG", PRIMARY, 0, root)
    root = t.job(45, "BACKUP", "STANDARD", "copies.example.com")
    for _ in range(2):
        t.job(45, "BACKUP", "STANDARD", "copies.example.com", 0, root)
    t.job(25, "DUPLICATE", "STANDARD", "copies.example.com")
    t.job(15, "REPLICATE", "STANDARD", "copies.example.com")
    t.job(9, "REPLICATE", "STANDARD", "copies.example.com", 84)
    root = t.job(40, "BACKUP", "ORACLE", "db01.example.com")
    for _ in range(2):
        t.job(41, "BACKUP", "ORACLE", "db01.example.com", 0, root)
    t.job(12, "BACKUP", "ORACLE", "db01.example.com", 0)
    return t.jobs
