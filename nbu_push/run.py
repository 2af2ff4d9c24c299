"""One run: collectors in parallel under a deadline, one payload, every sink, one exit code.

No HTTP or file details live here: those belong to netbackup/ and publish/.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import ipaddress
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any, TypeVar

from .collect import collectors
from .collect.base import CollectContext, Collector
from .config import PushgatewaySettings, Settings, env
from .metrics.exposition import exposition, kept_from_before, seal
from .netbackup.client import NetBackupClient
from .netbackup.session import close_session, open_session
from .publish import Payload, Sink
from .report import CollectorOutcome, RunReport
from .runtime.deadline import Deadline, wait_within
from .runtime.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    ApiError,
    AuthError,
    DeadlineExceeded,
    Incomplete,
    Interrupted,
    NbuPushError,
    PublishUnavailable,
)
from .runtime.lock import RunLock
from .runtime.progress import Progress
from .runtime.signals import SignalGuard
from .runtime.stats import CollectorStats
from .state import RunState
from .state import load as load_state
from .state import save as save_state

log = logging.getLogger("nbu_push")
T = TypeVar("T")

# Publishing may outlast the collection deadline by this much: the status must get out.
PUBLISH_GRACE_SECONDS = 10.0
# After the deadline, collectors stop at their next request; this long they may take to hand
# over what they completed (the jobs collector's progress is kept in the run state).
CANCEL_GRACE_SECONDS = 2.0


def exit_code_of(error: BaseException | None) -> int:
    return error.exit_code if isinstance(error, NbuPushError) else EXIT_FAILED


def _run_collector(collector: Collector[Any], client: NetBackupClient,
                   ctx: CollectContext) -> CollectorOutcome:
    name, started = collector.name, time.monotonic()
    def keep(summary: Any) -> Callable[[], object] | None:
        state_of = collector.state_of
        return None if state_of is None else lambda: state_of(summary)

    try:
        data = collector.collect(client, ctx)
    except Incomplete as exc:  # failed, but its progress goes into the run state
        return CollectorOutcome(name, False, time.monotonic() - started, ctx.stats,
                                data=exc.summary, error=exc.cause, state=keep(exc.summary))
    except Exception as exc:  # one collector's failure never stops the others
        if isinstance(exc, ApiError) and exc.status == 404 and collector.absent is not None:
            log.info("%s: this primary does not offer %s (HTTP 404); no %s series", name,
                     collector.reads.partition(" (")[0], name)
            data = collector.absent()
            return CollectorOutcome(name, True, time.monotonic() - started, ctx.stats,
                                    data=data, state=keep(data))
        if not isinstance(exc, NbuPushError):
            log.error("collector %s: internal error %s: %s", name, type(exc).__name__, exc)
        return CollectorOutcome(name, False, time.monotonic() - started, ctx.stats, error=exc)
    return CollectorOutcome(name, True, time.monotonic() - started, ctx.stats, data=data,
                            state=keep(data))


def _dependencies_first(names: Iterable[str], declared: Mapping[str, Collector[Any]]
                        ) -> list[str]:
    """The collectors to run, each after those it `uses` (which must not form a cycle)."""
    ordered: list[str] = []
    pending = list(names)
    while pending:
        ready = [n for n in pending if all(u in ordered or u not in pending
                                           for u in declared[n].uses)]
        if not ready:
            raise ValueError(f"collectors use each other in a cycle: {', '.join(pending)}")
        ordered += ready
        pending = [n for n in pending if n not in ready]
    return ordered


def _after(needed: dict[str, Future[CollectorOutcome]], collector: Collector[Any],
           client: NetBackupClient, ctx: CollectContext) -> CollectorOutcome:
    """Run `collector` once the collectors it uses are done, with their outcomes (a failed
    one's `data` holds its progress, if it made any). A collector hands its progress over
    within the cancel grace; one still running half-way through it (a peer that trickles
    bytes) is passed on as failed, so that `collector` still ends within the grace and what
    it keeps in the run state is never lost to a stuck neighbour."""
    stuck = wait_within(needed.values(), client.deadline, CANCEL_GRACE_SECONDS / 2)
    for used, future in needed.items():
        ctx.inputs[used] = future.result() if future not in stuck else CollectorOutcome(
            used, False, 0.0, CollectorStats(),
            error=DeadlineExceeded(f"{used} did not end by the run deadline"))
    return ctx.stats.on_cpu(_run_collector)(collector, client, ctx)


def collect(settings: Settings, deadline: Deadline, started_at: float,
            state: RunState | None = None,
            stats: dict[str, CollectorStats] | None = None) -> RunReport:
    """Read NetBackup: open a session, run every collector, close the session."""
    saved = state.collectors if state is not None else {}
    began = time.monotonic()
    stats = stats or {name: CollectorStats() for name in settings.collectors or collectors()}
    client = settings.client(deadline, sum(collectors()[name].connections for name in stats))
    report = RunReport(settings.site, started_at, 0.0, None, max_series=settings.max_series)
    logged_in = False
    try:
        logged_in = open_session(client, settings.credentials, settings.api_version)
        report.api_version = client.api_version
        report.outcomes = _run_all(client, settings, deadline, started_at, stats, saved)
    except NbuPushError as exc:  # no session: every collector failed for the same reason
        report.outcomes = [CollectorOutcome(name, False, 0.0, stats[name], error=exc)
                           for name in stats]
    finally:
        close_session(client, logged_in)
    report.duration_seconds = time.monotonic() - began
    return report


def _run_all(client: NetBackupClient, settings: Settings, deadline: Deadline,
             started_at: float, stats: dict[str, CollectorStats],
             saved: dict[str, object]) -> list[CollectorOutcome]:
    pool = ThreadPoolExecutor(len(stats), thread_name_prefix="collector")
    futures: dict[str, Future[CollectorOutcome]] = {}
    began = time.monotonic()
    try:
        with Progress(stats):
            declared = collectors()
            for name in _dependencies_first(stats, declared):
                ctx = settings.collect_context(started_at, stats[name], saved.get(name))
                needed = {used: futures[used] for used in declared[name].uses if used in futures}
                futures[name] = pool.submit(_after, needed, declared[name], client, ctx)
            wait_for(futures.values(), timeout=deadline.remaining())
    finally:
        if not all(future.done() for future in futures.values()):
            # a signal has cancelled it already (its reason stays); else the time is up
            deadline.cancel(deadline.cancelled
                            or f"run deadline ({settings.deadline:g}s) reached")
            wait_for(futures.values(), timeout=CANCEL_GRACE_SECONDS)
        pool.shutdown(wait=False, cancel_futures=True)
    stopped = DeadlineExceeded(deadline.cancelled or "stopped")
    outcomes = []
    for name in stats:
        future = futures.get(name)
        if future is not None and future.done() and not future.cancelled():
            outcomes.append(future.result())
        else:
            outcomes.append(CollectorOutcome(name, False, time.monotonic() - began,
                                             stats[name], error=stopped))
    return outcomes


def collection_exit_code(report: RunReport) -> int:
    if report.success:
        return EXIT_OK
    if report.partial:
        return EXIT_PARTIAL
    codes = {exit_code_of(outcome.error) for outcome in report.outcomes}
    return codes.pop() if len(codes) == 1 else EXIT_FAILED


YOUNG_GC_THRESHOLD = 10_000  # Python's default, 700, collects ~200 times in a 100,000-job
# run: pages and keys die young by the hundred thousand (85 -> 50 ms in the collector)


def run(settings: Settings, clock=time.time) -> int:
    """Collect, publish everywhere, log one summary line; return the exit code."""
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    deadline = Deadline(settings.deadline)
    if settings.base_url.startswith("http://") and not _loopback(settings.base_url):
        log.warning(f"{env('url')} %s is plain http: the API key crosses the network in clear text;"
                    " use https", settings.base_url)
    if settings.verify is False:
        log.warning("TLS verification is OFF for %s (--insecure): the API key can be"
                    f" intercepted; set {env('ca_bundle')} instead", settings.base_url)
    with SignalGuard(deadline) as guard, _lock(settings):
        state, warning = load_state(settings.state_file, settings.site, settings.base_url)
        if warning:
            log.warning("%s", warning, extra={"site": settings.site})
        report = _collect_within(settings, deadline, clock(), state)
        if settings.state_saved_to is not None:
            _hand_over(state, report)
        guard.raising = False  # from here a signal must not tear a write in half
        code = _publish(settings, report, deadline, state.outputs)
        code = _save_state(settings, state, code)
        if guard.signum is not None:
            code = Interrupted(guard.signum).exit_code
    summary = " ".join(
        f"{o.name}={'ok' if o.success else 'failed'}({o.stats.records} records,"
        f" {o.stats.requests} requests)" for o in report.outcomes)
    outcome = {EXIT_OK: "success", EXIT_PARTIAL: "partial"}.get(code, "failed")
    log.info("run %s: %s duration=%.2fs exit_code=%d", outcome, summary,
             report.duration_seconds, code,
             extra={"site": settings.site, "exit_code": code,
                    "duration_seconds": round(report.duration_seconds, 3)})
    return code


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _in_thread(work: Callable[[], T], name: str) -> tuple[threading.Thread, list]:
    """Start `work` in a daemon thread; the list receives (True, result) or (False, error).

    A peer that trickles a response resets the socket timeout with every byte, so no timeout
    bounds a request: the main thread waits for the thread only as long as the run allows,
    and the process ends with os._exit (cli.main), so a thread left behind cannot hold it.
    """
    box: list = []

    def target() -> None:
        try:
            box.append((True, work()))
        except BaseException as exc:  # handed to the main thread
            box.append((False, exc))

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread, box


def _collect_within(settings: Settings, deadline: Deadline, started_at: float,
                    state: RunState) -> RunReport:
    """collect(), but never past the deadline and the cancel grace, whatever the server does."""
    stats = {name: CollectorStats() for name in settings.collectors or collectors()}
    thread, box = _in_thread(lambda: collect(settings, deadline, started_at, state, stats),
                             "collect")
    try:
        thread.join(settings.deadline + CANCEL_GRACE_SECONDS + 1)
    except Interrupted:  # the deadline is cancelled: the collectors stop at their next request
        thread.join(CANCEL_GRACE_SECONDS + 1)
    if box:
        done, value = box[0]
        if not done:
            raise value
        return value
    reason = deadline.cancelled or f"run deadline ({settings.deadline:g}s) reached"
    stalled = DeadlineExceeded(f"{reason}; NetBackup stopped answering")
    log.debug("the collection did not end in time; publishing without it")
    return RunReport(settings.site, started_at, settings.deadline, None,
                     [CollectorOutcome(name, False, settings.deadline, stats[name],
                                       error=stalled) for name in stats],
                     max_series=settings.max_series)


def _hand_over(state: RunState, report: RunReport) -> None:
    """Each collector's new part replaces its old one, as soon as the collection ends (in
    this thread: a collector left behind at the deadline hands nothing over), so the old
    part's JSON text is freed before the exposition is made. A collector without a new part
    keeps its old one."""
    for outcome in report.outcomes:
        kept = outcome.state() if outcome.state is not None else None
        if kept is not None:
            state.collectors[outcome.name] = kept


def _save_state(settings: Settings, state: RunState, code: int) -> int:
    """Save the state, after publishing: the numbers just published were computed from this
    new state, and if it cannot be saved, the next run recomputes them from the old one, so
    no job is lost or counted twice either way (docs/state.md)."""
    if settings.state_saved_to is None:
        return code
    try:
        save_state(settings.state_saved_to, state)
    except NbuPushError as exc:
        log.error("%s; the next run starts again from the previous state", exc,
                  extra={"site": settings.site})
        if code in (EXIT_OK, EXIT_PARTIAL):
            code = exc.exit_code
    return code


def delete_group(gateway: PushgatewaySettings, site: str) -> int:
    """Remove this site's group from the Pushgateway (a retired NetBackup primary)."""
    gateway.sink(site).delete()
    log.info("deleted the Pushgateway group job=%s site=%s", gateway.job, site,
             extra={"site": site})
    return EXIT_OK


def _lock(settings: Settings) -> RunLock | contextlib.nullcontext:
    return RunLock(settings.lock_file) if settings.lock_file else contextlib.nullcontext()


def _publish_within(sink: Sink, payload: Payload, complete: bool, deadline: Deadline) -> None:
    """sink.publish(), given up (PublishUnavailable) once the publish grace has passed."""
    thread, box = _in_thread(lambda: sink.publish(payload, complete), f"publish-{sink.name}")
    thread.join((deadline.remaining() or PUBLISH_GRACE_SECONDS) + 1)
    if not box:
        raise PublishUnavailable(f"{sink.name}: no answer within the publish grace")
    done, value = box[0]
    if not done:
        raise value


def _publish(settings: Settings, report: RunReport, deadline: Deadline,
             kept: dict[str, Any] | None = None) -> int:
    """Log collector errors, send the payload to every sink; the run's exit code."""
    seal(report)  # a collector whose families fail to render has failed, before we say so
    errors = {id(o.error): o for o in report.outcomes if o.error is not None}
    if len(errors) == 1 and len(report.outcomes) > 1 and not report.partial:
        log.error("every collector failed: %s", report.outcomes[0].error,
                  extra={"site": settings.site})
    else:
        for outcome in errors.values():
            hint = ""
            if isinstance(outcome.error, AuthError):
                hint = f" (it needs {collectors()[outcome.name].permission})"
            log.error("collector %s failed: %s%s", outcome.name, outcome.error, hint,
                      extra={"collector": outcome.name, "site": settings.site})
    code = collection_exit_code(report)
    payload = functools.partial(exposition, report)  # written anew by each sink
    publish_deadline = Deadline(max(deadline.remaining() or 0.0, PUBLISH_GRACE_SECONDS))
    for sink in settings.sinks(publish_deadline, round(report.started_at * 1000), kept,
                               kept_from_before(report)):
        try:
            _publish_within(sink, payload, report.success, publish_deadline)
        except NbuPushError as exc:
            log.error("%s", exc, extra={"sink": sink.name, "site": settings.site})
            if code in (EXIT_OK, EXIT_PARTIAL):
                code = exit_code_of(exc)
    return code
