"""Is every client protected: the last good backup, the last attempt and the failures still
open, per client and policy.

The facts come from the jobs the jobs collector reads anyway (each job once; which job carries
a client's verdict is `_verdict.py`, documented in docs/metrics.md), kept in the run state so
that a client's last good backup is known however long ago it was. Beside the backups, the
newest good snapshot and the newest good duplicate and replicate copy are kept: a client with
snapshots only is visible without being called protected. A configured client (collector
`configured_clients`) that no job read so far shows is looked up once, at most
NBU_CLIENT_LOOKUPS per run: for each backup job type (BACKUP, SNAPDUPE) `GET
/admin/jobs?filter=clientName eq '<client>' and jobType eq '<type>'&sort=-endTime`, read
until the newest job that carries a usable verdict (at most LOOKUP_PAGES pages).

Clients neither configured nor seen in a job for NBU_CLIENT_RETENTION leave the state. With
more than NBU_MAX_SERIES client and policy pairs, those most at risk (the oldest last good
backup first) are published and the rest counted in `nbu_push_series_dropped`.
"""

from __future__ import annotations

import itertools
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..config import env
from ..metrics.family import Family, Sample
from ..netbackup.client import NetBackupClient
from ..netbackup.fields import label, timestamp
from ..netbackup.jobs import PATH, JobRecord, decode_jobs_page
from ..netbackup.paging import cursor_pages
from ..netbackup.query import odata_and, odata_string
from ..runtime.deadline import wait_within
from ..runtime.errors import DeadlineExceeded, Incomplete, NbuPushError
from ._jobs.observations import MAX_FAILURES, OTHER_KINDS, Attempts, ClientKey, keep_latest
from ._verdict import BACKUP, BACKUP_JOB_TYPES, COPIES, usable, verdict_of
from .base import CollectContext, Collector, decoded_rows
from .configured_clients import ConfiguredClients, client_filter
from .jobs import JobsSummary

LOOKUP_THREADS = 4
LOOKUP_PAGE_LIMIT = 25  # jobs per look-up page: a multistream tree's streams and its root
LOOKUP_PAGES = 4  # pages read per client and backup job type before giving up on a good one
log = logging.getLogger(__name__)


@dataclass(slots=True)  # one per client and policy
class Fact:
    success: int | None = None  # Unix ms: the end of the last usable backup
    attempt: int | None = None  # the end of the last attempt ...
    status: str = ""  # ... and its NetBackup status
    # failed attempts after `success`, in order; a tuple: most clients share the empty one
    failures: tuple[int, ...] = ()
    snapshot: int | None = None  # the end of the last usable SNAPSHOT job
    duplicate: int | None = None  # ... DUPLICATE job
    replicate: int | None = None  # ... REPLICATE job

    @property
    def last_seen(self) -> int | None:
        return max(self.attempt or 0, self.success or 0,
                   *(getattr(self, kind) or 0 for kind in OTHER_KINDS)) or None

    def merge(self, seen: Attempts) -> None:
        for kind in OTHER_KINDS:
            keep_latest(self, kind, getattr(seen, kind))
        if seen.success is not None and (self.success is None or seen.success > self.success):
            self.success = seen.success
        if seen.attempt is not None and (self.attempt is None or seen.attempt >= self.attempt):
            self.attempt, self.status = seen.attempt, seen.status
        failures = set(self.failures) | set(seen.failures)
        self.failures = tuple(sorted(f for f in failures
                                     if self.success is None or f > self.success)[-MAX_FAILURES:])


@dataclass
class ClientBook:
    """What the clients collector keeps in the run state."""

    facts: dict[ClientKey, Fact] = field(default_factory=dict)
    looked_up: dict[str, int] = field(default_factory=dict)  # client -> when (Unix ms)

    def observe(self, observed: dict[ClientKey, Attempts], keep) -> None:
        for key, seen in observed.items():
            if keep(key[0]):
                self.facts.setdefault(key, Fact()).merge(seen)

    def known_good(self) -> set[str]:
        return {client for (client, _, _), fact in self.facts.items() if fact.success}

    def prune(self, configured: set[str] | None, keep, oldest_ms: float) -> None:
        """Drop what is filtered out, and what is neither configured nor seen lately."""
        def stays(client: str, last_ms: int | None) -> bool:
            if not keep(client):
                return False
            recent = last_ms is not None and last_ms >= oldest_ms
            return recent or configured is None or client in configured

        self.facts = {key: fact for key, fact in self.facts.items()
                      if stays(key[0], fact.last_seen)}
        self.looked_up = {client: when for client, when in self.looked_up.items()
                          if stays(client, when)}

    def to_json(self) -> dict[str, Any]:
        """The facts as an iterator: written row by row (state.json_chunks), not held."""
        return {"facts": ([*key, fact.success, fact.attempt, fact.status, list(fact.failures),
                           fact.snapshot, fact.duplicate, fact.replicate]
                          for key, fact in sorted(self.facts.items())),
                "looked_up": sorted([client, when] for client, when in self.looked_up.items())}

    @classmethod
    def from_json(cls, document: object) -> ClientBook:
        """Strictly validated; anything off raises ValueError."""
        if not isinstance(document, dict):
            raise ValueError("not an object")
        book = cls()
        for row in decoded_rows(_list(document.get("facts"))):
            # 7 columns: a state written before snapshots and copies were kept
            if not (isinstance(row, list) and len(row) in (7, 10)
                    and all(isinstance(v, str) for v in row[:3])
                    and all(v is None or type(v) is int for v in (*row[3:5], *row[7:]))
                    and isinstance(row[5], str) and isinstance(row[6], list)
                    and all(type(v) is int for v in row[6])):
                raise ValueError("a client fact of the wrong shape")
            # a policy's name and type, and a status, repeat across thousands of clients
            book.facts[(row[0], sys.intern(row[1]), sys.intern(row[2]))] = Fact(
                row[3], row[4], sys.intern(row[5]), tuple(row[6]), *row[7:])
        for row in _list(document.get("looked_up")):
            if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)
                    and type(row[1]) is int):
                raise ValueError("a lookup of the wrong shape")
            book.looked_up[row[0]] = row[1]
        return book


def _list(value: object) -> list:
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


@dataclass
class ClientsSummary:
    book: ClientBook
    published: list[ClientKey] = field(default_factory=list)  # the pairs to publish
    dropped: int = 0  # pairs left out by the cap
    lookups_pending: int | None = None  # None: the configured clients are not known


def _book(ctx: CollectContext) -> ClientBook:
    if ctx.saved is None:
        return ClientBook()
    try:
        return ClientBook.from_json(ctx.state_with_tables(("facts",)))
    except ValueError as exc:
        log.warning("clients: the saved client state is invalid (%s); starting afresh", exc)
        return ClientBook()


def lookup_filter(client: str, job_type: str) -> str:
    return odata_and(f"clientName eq {odata_string(client)}", f"jobType eq '{job_type}'")


def _look_up(client: NetBackupClient, ctx: CollectContext, name: str
             ) -> dict[ClientKey, Attempts]:
    """The backups of one client, newest first, by each backup job type: every job that
    carries a backup verdict is an attempt, read until the newest usable one."""
    found: dict[ClientKey, Attempts] = {}
    for job_type in BACKUP_JOB_TYPES:
        query = {"filter": lookup_filter(name, job_type), "sort": "-endTime",
                 "page[limit]": LOOKUP_PAGE_LIMIT}
        pages = cursor_pages(client, PATH, query, decode_jobs_page, ctx.stats, LOOKUP_PAGES + 1)
        for page in itertools.islice(pages, LOOKUP_PAGES):
            if _fold_lookup(page.records, found):
                break
    return found


def _fold_lookup(records: list[JobRecord], found: dict[ClientKey, Attempts]) -> bool:
    """Fold one page of a look-up; True once a usable backup was read."""
    for record in records:
        attrs = record.attributes
        ended = timestamp(attrs.endTime) if attrs is not None else None
        if attrs is None or ended is None or verdict_of(
                attrs.jobType, attrs.policyType, attrs.jobId, attrs.parentJobId,
                attrs.childCount) != BACKUP:
            continue
        key = (label(attrs.clientName, ""), label(attrs.policyName), label(attrs.policyType))
        found.setdefault(key, Attempts()).add(round(ended * 1000), label(attrs.status))
        if usable(attrs.status):
            return True
    return False


def _look_up_all(client: NetBackupClient, ctx: CollectContext, batch: list[str],
                 summary: ClientsSummary) -> dict[str, dict[ClientKey, Attempts]]:
    """The look-ups that ended by the deadline, by client. One stuck in a peer that trickles
    bytes (no socket timeout ends it) is left behind and stays pending, so the facts of the
    jobs this run read are kept whatever a look-up does. A signal, or any other error, ends
    the collector with its book kept (Incomplete)."""
    pool = ThreadPoolExecutor(LOOKUP_THREADS, thread_name_prefix="lookup")
    futures = {pool.submit(ctx.stats.on_cpu(_look_up), client, ctx, name): name for name in batch}
    try:
        pending = wait_within(futures, client.deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if pending and client.deadline.interrupted:
        raise Incomplete(DeadlineExceeded(f"lookups: {client.deadline.cancelled}"), summary)
    found: dict[str, dict[ClientKey, Attempts]] = {}
    for future, name in futures.items():
        if future in pending or future.cancelled():
            continue
        error = future.exception()
        if error is None:
            found[name] = future.result()
        elif isinstance(error, DeadlineExceeded):
            if client.deadline.interrupted:
                raise Incomplete(error, summary) from None
        elif isinstance(error, NbuPushError):
            raise Incomplete(error, summary) from None  # keep what the jobs showed
        else:
            raise error
    return found


def _select(book: ClientBook, cap: int) -> tuple[list[ClientKey], int]:
    """Every pair, or the `cap` most at risk: never backed up first, then the oldest."""
    if len(book.facts) <= cap:
        return sorted(book.facts), 0
    ranked = sorted(book.facts, key=lambda key: (book.facts[key].success or 0, key))
    return sorted(ranked[:cap]), max(0, len(ranked) - cap)


def collect_clients(client: NetBackupClient, ctx: CollectContext) -> ClientsSummary:
    keep = client_filter(ctx.options.client_include, ctx.options.client_exclude)
    book = _book(ctx)
    jobs = ctx.inputs.get("jobs")  # its outcome; None when the jobs collector is off
    if jobs is not None and isinstance(jobs.data, JobsSummary):  # first: never lose a job
        book.observe(jobs.data.observed, keep)
    configured = ctx.inputs.get("configured_clients")
    names = (configured.data.names if configured is not None and configured.success
             and isinstance(configured.data, ConfiguredClients) else None)
    # the primary's clock, which the facts are in (the local one without the jobs collector)
    now_ms = (jobs.data.target_ms if jobs is not None and isinstance(jobs.data, JobsSummary)
              else round(ctx.now * 1000))
    retention = ctx.options.client_retention
    book.prune(names, keep, now_ms - retention * 1000)
    summary = ClientsSummary(book)  # `Incomplete` keeps its book in the state, unpublished
    if jobs is not None and not jobs.success:  # not current: keep the state, publish nothing
        raise Incomplete(jobs.error or NbuPushError("the jobs collector failed"), summary)
    if names is not None:
        wanted = sorted(names - book.known_good() - set(book.looked_up))
        batch = wanted[:ctx.options.client_lookups]
        found = _look_up_all(client, ctx, batch, summary)
        if len(found) < len(batch):
            log.info("clients: %d lookups stopped by the deadline; they continue next run",
                     len(batch) - len(found))
        for name, result in found.items():
            book.looked_up[name] = now_ms
            for key, attempts in result.items():
                if key[0] == name:  # the filter's client: never another's record
                    book.facts.setdefault(key, Fact()).merge(attempts)  # in ms already
        summary.lookups_pending = len(wanted) - len(found)
    summary.published, summary.dropped = _select(book, ctx.max_series)
    return summary


CLIENT_LABELS = ("client", "policy_name", "policy_type")


def _per_client(name: str, documentation: str, value) -> Family[ClientsSummary]:
    def samples(summary: ClientsSummary) -> list[Sample]:
        found: list[Sample] = []
        for key in summary.published:
            amount = value(summary.book.facts[key])
            if amount is not None:
                found.append((key, amount))
        return found

    return Family(name, documentation, CLIENT_LABELS, samples,
                  dropped=lambda summary: summary.dropped)


def _copies(summary: ClientsSummary) -> list[Sample]:
    found: list[Sample] = []
    for key in summary.published:
        fact = summary.book.facts[key]
        for copy in COPIES:
            ended = getattr(fact, copy)
            if ended:
                found.append(((*key, copy), ended / 1000))
    return found


def _status(fact: Fact) -> float | None:
    try:
        return float(fact.status) if fact.status and fact.attempt else None
    except ValueError:
        return None


COLLECTOR: Collector[ClientsSummary] = Collector(
    name="clients",
    probe="/admin/jobs",
    reads="the backup jobs the jobs collector reads; for configured clients never seen,"
          f" GET {PATH} (one lookup each, at most {env('client_lookups')} per run)",
    permission="|MANAGE|JOBS| view",
    collect=collect_clients,
    state_of=lambda summary: summary.book.to_json(),
    connections=LOOKUP_THREADS,
    uses=("jobs", "configured_clients"),
    families=(
        _per_client("nbu_client_last_success_timestamp_seconds",
                    "End of the last backup of the client that left a usable image"
                    " (status 0 or 1; GET /admin/jobs, endTime).",
                    lambda fact: fact.success / 1000 if fact.success else None),
        _per_client("nbu_client_last_attempt_timestamp_seconds",
                    "End of the last backup attempt of the client (GET /admin/jobs, endTime).",
                    lambda fact: fact.attempt / 1000 if fact.attempt else None),
        _per_client("nbu_client_last_status",
                    "NetBackup status code of the last backup attempt of the client.",
                    _status),
        _per_client("nbu_client_failures_since_success",
                    "Failed backup attempts of the client since its last usable backup; 0 when"
                    " the last attempt succeeded (at most 100 are remembered).",
                    lambda fact: len(fact.failures) if fact.attempt else None),
        _per_client("nbu_client_last_snapshot_timestamp_seconds",
                    "End of the last SNAPSHOT job of the client with status 0 or 1 (GET"
                    " /admin/jobs, endTime); a snapshot is not a backup copy, so it never sets"
                    " the last success.",
                    lambda fact: fact.snapshot / 1000 if fact.snapshot else None),
        Family("nbu_client_last_copy_timestamp_seconds",
               "End of the last DUPLICATE (copy=duplicate) or REPLICATE (copy=replicate) job"
               " of the client with status 0 or 1 (GET /admin/jobs, endTime).",
               (*CLIENT_LABELS, "copy"), _copies, dropped=lambda summary: summary.dropped),
        Family("nbu_client_lookups_pending",
               "Configured clients without a known good backup still to be looked up"
               f" ({env('client_lookups')} per run).", (),
               lambda s: [] if s.lookups_pending is None else [((), s.lookups_pending)]),
    ),
)
