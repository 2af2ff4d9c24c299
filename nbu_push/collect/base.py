"""What a collector is: a name, what it reads, how it reads it, and the families it owns.

A collector module declares one `COLLECTOR = Collector(...)`. `collect(client, ctx)` returns
a plain summary (no metrics, no I/O besides the client); each `Family` (metrics/family.py)
turns that summary into samples. A collector is checked when it is declared: a bad or
duplicate family name, one in the run's reserved `nbu_push_` namespace, a label that clashes
with `site`, or no family at all raises at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from ..config import CollectorOptions, collector_options
from ..metrics.family import RUN_PREFIX, Family
from ..runtime.errors import AuthError
from ..runtime.stats import CollectorStats

if TYPE_CHECKING:
    from ..netbackup.client import NetBackupClient

S = TypeVar("S")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class CollectContext:
    """What every collector receives besides the client."""

    now: float  # Unix time the run started; the job window ends here
    job_window: float = 3600.0
    concurrency: int = 4
    max_pages: int = 10_000
    balance_slices: bool = True  # re-cut job slices by POST /admin/jobs-count-requests
    stats: CollectorStats = field(default_factory=CollectorStats)
    saved: Any = None  # what this collector saved in the run state last time: its JSON text
    # (msgspec.Raw, as the state file holds it) or a value, None when nothing
    settle: float = 0.0  # NBU_JOB_SETTLE: jobs ending this close to now are read next run
    backfill: float | None = None  # NBU_JOB_BACKFILL: a first run's reach (None: the window)
    windows: tuple[tuple[str, float], ...] = ()  # NBU_JOB_WINDOW as (label, seconds)
    inputs: dict[str, Any] = field(default_factory=dict)  # the outcomes (report.py) of the
    # collectors it `uses` that ran
    max_series: int = 5000  # NBU_MAX_SERIES, for collectors that choose which series to keep
    options: CollectorOptions = field(default_factory=lambda: collector_options({}))

    @property
    def state(self) -> Any:
        """What this collector saved last time, decoded anew at each access (read it once):
        the decoded document lives only while the collector turns it into its own
        structures. ValueError when it is not JSON."""
        if isinstance(self.saved, msgspec.Raw):
            return msgspec.json.decode(self.saved)
        return self.saved

    def state_with_tables(self, tables: Iterable[str]) -> Any:
        """As `state`, but the named tables (lists) stay lists of JSON-text rows
        (msgspec.Raw), which the reader decodes one at a time (`decoded_rows`): a table of
        tens of thousands of rows is never held decoded. ValueError when it is not JSON of
        that shape."""
        if not isinstance(self.saved, msgspec.Raw):
            return self.saved
        wanted = frozenset(tables)
        parts = msgspec.json.decode(self.saved, type=dict[str, msgspec.Raw])
        return {name: msgspec.json.decode(part, type=list[msgspec.Raw]) if name in wanted
                else msgspec.json.decode(part) for name, part in parts.items()}

    def __post_init__(self) -> None:
        if not self.windows:
            self.windows = ((f"{self.job_window:g}s", self.job_window),)


@dataclass(frozen=True)
class Collector(Generic[S]):
    """A collector: `collect` reads NetBackup into a summary of type S; `families` own it."""

    name: str  # the `collector` label value
    reads: str  # the endpoints, for docs and logs
    permission: str  # the NetBackup RBAC permission it needs
    collect: Callable[[NetBackupClient, CollectContext], S]
    families: tuple[Family[S], ...]
    state_of: Callable[[S], Any] | None = None  # what to keep in the run state (JSON)
    connections: int = 1  # requests it has in flight at once (sizes the connection pool)
    uses: tuple[str, ...] = ()  # collectors whose summary it needs: it runs after them
    probe: str | None = None  # a path `nbu-push check` GETs (page[limit]=1) for the permission
    # the summary when the primary answers HTTP 404 (a release without the API, a primary
    # without tape): no series, one INFO line, the run succeeds; None: a 404 fails it
    absent: Callable[[], S] | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"collector name {self.name!r} is not snake_case")
        if not self.families:
            raise ValueError(f"collector {self.name!r} declares no metric family")
        names = [family.name for family in self.families]
        if len(set(names)) != len(names):
            raise ValueError(f"collector {self.name!r} declares a family twice")
        for name in names:
            if name.startswith(RUN_PREFIX):
                raise ValueError(f"collector {self.name!r} declares {name}: the {RUN_PREFIX}"
                                 " prefix is reserved for the run's own families")


def require_records(found: int, path: str) -> None:
    """An endpoint every primary that offers it fills (its drives, its default volume pools,
    its media servers) answered with no records: the role cannot see the namespace. NetBackup
    says so with an empty 200 as often as with a 403, so it is the same failure."""
    if not found:
        raise AuthError(f"GET {path} answered no records: the API key's role cannot see them")


def decoded_rows(rows: Iterable[Any]) -> Iterator[Any]:
    """The rows of a saved table, each decoded from its JSON text as it is reached
    (CollectContext.state_with_tables), or as they are when already values."""
    for row in rows:
        yield msgspec.json.decode(row) if isinstance(row, msgspec.Raw) else row
