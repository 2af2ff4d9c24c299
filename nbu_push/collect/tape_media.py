"""Tape media by pool, robot and condition, from `GET /storage/tape-volume-pools` and
`GET /storage/tape-media` (both cursor paging, page[limit] 0..100).

A medium's condition is the first of frozen, suspended, full that its `mediaStatus` (a
space-separated combination of FROZEN, SUSPENDED, FULL, ACTIVE, …) names, else usable.
Cleaning tapes (`mediaType` ending in `_CLN`) are not media here: their
`cleaningsRemaining` are summed per robot. A large library holds tens of thousands of media,
so they are read at most every NBU_TAPE_MEDIA_INTERVAL; in between, the counts of the last
read (kept in the run state) are published with the time they were read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..config import env
from ..metrics.family import Family, Sample
from ..netbackup.client import NetBackupClient
from ..netbackup.decoding import page_decoder
from ..netbackup.fields import label, number
from ..netbackup.paging import cursor_pages
from ._tape import robot_label, tokens
from .base import CollectContext, Collector, require_records

log = logging.getLogger("nbu_push")

POOLS_PATH = "/storage/tape-volume-pools"
MEDIA_PATH = "/storage/tape-media"
PAGE_LIMIT = 100  # page[limit] 0..100 on both
CONDITIONS = ("frozen", "suspended", "full")  # by precedence; none of them: usable

MediaKey = tuple[str, str, str, str]  # volume_pool, pool_type, robot, condition


class PoolAttributes(msgspec.Struct):
    volumePoolName: Any = None
    poolType: Any = None


class PoolRecord(msgspec.Struct):
    id: Any = None
    attributes: PoolAttributes | None = None


class MediaAttributes(msgspec.Struct):
    mediaType: Any = None
    robot: Any = None  # {robotType, robotNumber, robotHost}
    volumePool: Any = None
    mediaStatus: Any = None
    cleaningsRemaining: Any = None


class MediaRecord(msgspec.Struct):
    id: Any = None
    attributes: MediaAttributes | None = None


decode_pools_page = page_decoder(PoolRecord)
decode_media_page = page_decoder(MediaRecord)


def condition(media_status: object) -> str:
    words = tokens(media_status)
    return next((name for name in CONDITIONS if name.upper() in words), "usable")


def media_robot(robot: object) -> str:
    """The library a medium is in; `standalone` outside one (offsite, or no `robot`)."""
    if not isinstance(robot, dict) or robot.get("robotType") is None:
        return "standalone"
    return robot_label(robot.get("robotType"), robot.get("robotNumber"))


@dataclass
class TapeMedia:
    media: dict[MediaKey, int] = field(default_factory=dict)
    cleanings: dict[str, int] = field(default_factory=dict)  # robot -> cleanings remaining
    read_at: float | None = None  # Unix time of the read these counts come from

    def add_media(self, records: Iterable[MediaRecord], pool_types: dict[str, str]) -> int:
        """Count records in; returns how many were skipped (no attributes)."""
        skipped = 0
        for record in records:
            attrs = record.attributes
            if attrs is None:
                skipped += 1
                continue
            robot = media_robot(attrs.robot)
            if label(attrs.mediaType, "").upper().endswith("_CLN"):
                left = number(attrs.cleaningsRemaining)
                if left is not None and left >= 0:
                    self.cleanings[robot] = self.cleanings.get(robot, 0) + int(left)
                continue
            pool = label(attrs.volumePool)
            key = (pool, pool_types.get(pool, "unknown"), robot, condition(attrs.mediaStatus))
            self.media[key] = self.media.get(key, 0) + 1
        return skipped

    def to_json(self) -> dict[str, Any]:
        return {"read_at": self.read_at, "media": [[*key, n] for key, n in self.media.items()],
                "cleanings": self.cleanings}

    @classmethod
    def from_json(cls, document: object) -> TapeMedia | None:
        """The counts a previous run kept; None when absent or damaged (read afresh)."""
        try:
            assert isinstance(document, dict)
            read_at = float(document["read_at"])
            media = {(str(p), str(t), str(r), str(c)): int(n)
                     for p, t, r, c, n in document["media"]}
            cleanings = {str(robot): int(n) for robot, n in document["cleanings"].items()}
        except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
            return None
        return cls(media, cleanings, read_at)


def read_pool_types(client: NetBackupClient, ctx: CollectContext) -> dict[str, str]:
    types: dict[str, str] = {}
    for page in cursor_pages(client, POOLS_PATH, {"page[limit]": PAGE_LIMIT},
                             decode_pools_page, ctx.stats, ctx.max_pages):
        for record in page.records:
            attrs = record.attributes
            name = label(attrs.volumePoolName if attrs else None, "") or label(record.id, "")
            if attrs is None or not name:
                ctx.stats.add(skipped=1)
                continue
            types[name] = label(attrs.poolType)
    return types


def collect_tape_media(client: NetBackupClient, ctx: CollectContext) -> TapeMedia:
    kept = TapeMedia.from_json(ctx.state) if ctx.saved is not None else None
    if kept is not None and kept.read_at is not None and \
            0 <= ctx.now - kept.read_at < ctx.options.tape_media_interval:
        return kept
    pool_types = read_pool_types(client, ctx)
    require_records(len(pool_types), POOLS_PATH)  # NetBackup creates its default pools
    summary = TapeMedia(read_at=ctx.now)
    for page in cursor_pages(client, MEDIA_PATH, {"page[limit]": PAGE_LIMIT},
                             decode_media_page, ctx.stats, ctx.max_pages):
        ctx.stats.add(skipped=summary.add_media(page.records, pool_types))
    return summary


def _media(summary: TapeMedia) -> Iterator[Sample]:
    for key, count in sorted(summary.media.items()):
        yield key, float(count)


COLLECTOR: Collector[TapeMedia] = Collector(
    name="tape_media",
    probe=MEDIA_PATH,
    reads=f"GET {POOLS_PATH}, GET {MEDIA_PATH} (cursor paging, at most every"
          f" {env('tape_media_interval')}; off on HTTP 404)",
    permission="|STORAGE|TAPE-MEDIA| view and |STORAGE|TAPE-MEDIA|VOLUME-POOLS| view",
    collect=collect_tape_media,
    absent=TapeMedia,
    state_of=lambda summary: summary.to_json() if summary.read_at is not None else None,
    families=(
        Family("nbu_tape_media",
               "Tape media (cleaning tapes aside) by volume pool, pool type (poolType),"
               " robot and condition: frozen, suspended, full (mediaStatus), else usable.",
               ("volume_pool", "pool_type", "robot", "condition"), _media),
        Family("nbu_tape_cleanings_remaining",
               "Cleanings left on the cleaning tapes of a robot (sum of cleaningsRemaining"
               " over media whose mediaType ends in _CLN).", ("robot",),
               lambda s: [((robot,), float(n)) for robot, n in sorted(s.cleanings.items())]),
        Family("nbu_tape_media_read_timestamp_seconds",
               "When the tape media counts were read (they are read at most every"
               f" {env('tape_media_interval')}).", (),
               lambda s: [] if s.read_at is None else [((), s.read_at)]),
    ),
)
