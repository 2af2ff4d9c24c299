"""Tape drives, from `GET /storage/drives` (offset paging, page[limit] 0..100).

Per drive (`data[].id`): up (`driveStatus` DRIVE_STATUS_UP; DOWN, MIXED, i.e. up on some
paths only, and DISABLED are not), whether it needs cleaning (`cleaningComment` "NEEDS
CLEANING", or a tape alert CLEAN_NOW or CLEAN_PERIODIC) and how many of its device paths
(one per media server) are not PATH_STATUS_UP. A primary without tape answers 404: no
series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..metrics.family import Family, Sample
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label
from ..netbackup.paging import offset_pages
from ._tape import robot_label, tokens
from .base import CollectContext, Collector, require_records

PATH = "/storage/drives"
PAGE_LIMIT = 100  # page[limit] 0..100
CLEANING_ALERTS = frozenset({"CLEAN_NOW", "CLEAN_PERIODIC"})


class DriveAttributes(msgspec.Struct):
    driveType: Any = None
    robotType: Any = None
    robotNumber: Any = None
    driveStatus: Any = None
    cleaningComment: Any = None
    tapeAlert1: Any = None
    tapeAlert2: Any = None
    devicePaths: Any = None


class DriveRecord(msgspec.Struct):
    id: Any = None
    attributes: DriveAttributes | None = None


decode_drives_page = page_decoder(DriveRecord)


@dataclass(frozen=True)
class Drive:
    labels: tuple[str, str, str]  # drive, robot, drive_type
    up: bool | None  # None: no driveStatus
    needs_cleaning: bool | None  # None: neither a cleaning comment nor tape alerts
    paths_down: int | None  # None: no device paths reported


def paths_down(paths: object) -> int | None:
    """Device paths whose `pathStatus` is there and not PATH_STATUS_UP."""
    if not isinstance(paths, list):
        return None
    statuses = [label(path.get("pathStatus"), "").upper() for path in paths
                if isinstance(path, dict)]
    return sum(1 for status in statuses if status and status != "PATH_STATUS_UP")


def needs_cleaning(attrs: DriveAttributes) -> bool | None:
    comment, alerts = attrs.cleaningComment, tokens(attrs.tapeAlert1) | tokens(attrs.tapeAlert2)
    if not isinstance(comment, str) and attrs.tapeAlert1 is None and attrs.tapeAlert2 is None:
        return None
    return ((isinstance(comment, str) and comment.strip().upper() == "NEEDS CLEANING")
            or bool(alerts & CLEANING_ALERTS))


@dataclass
class Drives:
    drives: dict[str, Drive] = field(default_factory=dict)  # by name: no duplicate series

    def add_records(self, records: Iterable[DriveRecord]) -> int:
        """Fold records in; returns how many were skipped (no attributes, no name)."""
        skipped = 0
        for record in records:
            attrs, name = record.attributes, label(record.id, "")
            if attrs is None or not name:
                skipped += 1
                continue
            status = label(attrs.driveStatus, "").upper()
            self.drives[name] = Drive(
                (name, robot_label(attrs.robotType, attrs.robotNumber), label(attrs.driveType)),
                status == "DRIVE_STATUS_UP" if status else None, needs_cleaning(attrs),
                paths_down(attrs.devicePaths))
        return skipped


def collect_drives(client: NetBackupClient, ctx: CollectContext) -> Drives:
    summary = Drives()
    for page in offset_pages(client, PATH, {}, decode_drives_page, ctx.stats, ctx.max_pages,
                             PAGE_LIMIT):
        ctx.stats.add(skipped=summary.add_records(page.records))
    require_records(len(summary.drives), PATH)
    return summary


def _per_drive(name: str, documentation: str,
               value: Callable[[Drive], float | None]) -> Family[Drives]:
    def samples(summary: Drives) -> Iterator[Sample]:
        for _, drive in sorted(summary.drives.items()):
            amount = value(drive)
            if amount is not None:
                yield drive.labels, amount

    return Family(name, documentation, ("drive", "robot", "drive_type"), samples)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


COLLECTOR: Collector[Drives] = Collector(
    name="tape_drives",
    probe=PATH,
    reads=f"GET {PATH} (offset paging; off on HTTP 404)",
    permission="|STORAGE|TAPE-DEVICES| view",
    collect=collect_drives,
    absent=Drives,
    families=(
        _per_drive("nbu_tape_drive_up",
                   "1 if the tape drive is up on all its paths (GET /storage/drives,"
                   " driveStatus DRIVE_STATUS_UP), 0 if down, mixed or disabled.",
                   lambda drive: _flag(drive.up)),
        _per_drive("nbu_tape_drive_needs_cleaning",
                   "1 if the tape drive needs cleaning (cleaningComment NEEDS CLEANING, or"
                   " tapeAlert1/2 CLEAN_NOW or CLEAN_PERIODIC).",
                   lambda drive: _flag(drive.needs_cleaning)),
        _per_drive("nbu_tape_drive_paths_down",
                   "Device paths of the tape drive whose pathStatus is not PATH_STATUS_UP"
                   " (devicePaths[].pathStatus).",
                   lambda drive: None if drive.paths_down is None else float(drive.paths_down)),
    ),
)
