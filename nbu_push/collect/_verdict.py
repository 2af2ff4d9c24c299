"""Which job carries which verdict for its client: the vendor's rules, in one place.

NetBackup writes one backup as a tree of jobs (docs/metrics.md, "Which jobs count"):
- a multistream, multiple-copy or BMR backup is a root with children of the same client;
  the root's status is the exit code of the whole backup, the children are not attempts;
- a VMware, Hyper-V, AHV, RHV, KVM, other hypervisor or NAS discovery root names the
  vCenter or backup host and counts for no client; each VM's (share's) own jobs count for it;
- a SNAPSHOT is never a backup copy: the Backup From Snapshot job (SNAPDUPE) is the first
  one; DUPLICATE and REPLICATE jobs are further copies of an existing image.
Roots have `parentJobId` 0 or equal to their `jobId` (releases differ: both are accepted).
A usable result is status 0 or 1 (1 still writes a catalog image).
"""

from __future__ import annotations

from typing import Any

from ..netbackup.fields import number

BACKUP, SNAPSHOT, DUPLICATE, REPLICATE = "backup", "snapshot", "duplicate", "replicate"
COPIES = (DUPLICATE, REPLICATE)  # the `copy` label of nbu_client_last_copy_timestamp_seconds
KIND_OF_JOB_TYPE = {"BACKUP": BACKUP, "SNAPDUPE": BACKUP, "SNAPSHOT": SNAPSHOT,
                    "DUPLICATE": DUPLICATE, "REPLICATE": REPLICATE}
BACKUP_JOB_TYPES = tuple(t for t, kind in KIND_OF_JOB_TYPE.items() if kind == BACKUP)
# hypervisor and NAS policies that discover VMs or shares (10.5 files AHV, RHV and KVM under
# HYPERVISOR; 11.2 gives NUTANIX_AHV, OLVM_RHV and KVM their own policyType)
DISCOVERY_POLICIES = frozenset({"VMWARE", "HYPERV", "HYPERVISOR", "NUTANIX_AHV", "OLVM_RHV",
                                "KVM", "NAS_DATA_PROTECTION"})


def is_root(job_id: Any, parent_id: Any) -> bool:
    return parent_id is None or parent_id == 0 or parent_id == job_id


def has_children(child_count: Any) -> bool:
    return child_count is not None and child_count != 0 and bool(number(child_count))


def verdict_of(job_type: Any, policy_type: Any, job_id: Any, parent_id: Any,
               child_count: Any) -> str | None:
    """The kind of verdict the job carries for its client (BACKUP, SNAPSHOT, DUPLICATE,
    REPLICATE), or None: another job of its tree carries it, or none counts."""
    kind = KIND_OF_JOB_TYPE.get(job_type) if type(job_type) is str else None
    if kind is None:
        return None
    root = is_root(job_id, parent_id)
    if type(policy_type) is str and policy_type in DISCOVERY_POLICIES:
        return None if root and has_children(child_count) else kind  # the discovery root
    return kind if root else None


def usable(status: Any) -> bool:
    code = status if type(status) is int else number(status)
    return code is not None and 0 <= code <= 1
