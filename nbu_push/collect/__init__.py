"""Collectors: one file each, `collect(client, ctx) -> plain data`, no sinks, no metrics."""

from __future__ import annotations

from collections.abc import Callable

from ..netbackup.client import NetBackupClient
from .base import CollectContext
from .jobs import collect_jobs
from .storage import collect_storage

Collector = Callable[[NetBackupClient, CollectContext], object]

COLLECTORS: dict[str, Collector] = {
    "jobs": collect_jobs,
    "storage": collect_storage,
}
