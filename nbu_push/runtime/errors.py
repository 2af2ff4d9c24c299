"""Every exception nbu-push raises on purpose, and the one table of exit codes.

Each exception carries the exit code the run ends in. `EXIT_CODES` is the only copy of the
table: `nbu-push --help` prints it and a test holds README.md to it.
"""

from __future__ import annotations

import os
import signal

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_TEMPFAIL = getattr(os, "EX_TEMPFAIL", 75)
EXIT_CONFIG = getattr(os, "EX_CONFIG", 78)
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM

EXIT_CODES: tuple[tuple[str, str], ...] = (
    (f"{EXIT_OK}", "every collector succeeded and every output was written"),
    (f"{EXIT_FAILED}", "failed: nothing collected (e.g. HTTP 401, an invalid response), or an"
                       " output rejected the data"),
    (f"{EXIT_USAGE}", "usage error (unknown option)"),
    (f"{EXIT_PARTIAL}", "partial: some collectors failed; the rest was published"),
    (f"{EXIT_TEMPFAIL}", "temporary: NetBackup or the Pushgateway unreachable, or busy"
                         " (502/503/504, 429) after retries; the deadline reached; another run"
                         " holds the lock"),
    (f"{EXIT_CONFIG}", "configuration error: nothing was sent or written"),
    (f"{EXIT_SIGINT}, {EXIT_SIGTERM}", "interrupted by SIGINT or SIGTERM: fetching stops, the"
                                        " failure status is still published"),
)


class NbuPushError(Exception):
    """An expected failure: reported as one line, never as a traceback."""

    exit_code = EXIT_FAILED


class ConfigError(NbuPushError):
    """A setting is missing, malformed or contradicts another one."""

    exit_code = EXIT_CONFIG


class TemporaryError(NbuPushError):
    """The other side is unreachable or busy; the next run may succeed."""

    exit_code = EXIT_TEMPFAIL


class ApiError(NbuPushError):
    """NetBackup answered with an error status or an unusable body."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ApiError):
    """401/403: another version or a retry cannot fix the credentials."""


class ApiUnavailable(ApiError, TemporaryError):
    """Connection errors and 429/502/503/504 that outlasted the retries."""


class Cancelled(NbuPushError):
    """Another part of the same collector failed; this one stopped early."""


class PublishError(NbuPushError):
    """An output did not take the data."""


class PublishUnavailable(PublishError, TemporaryError):
    """The Pushgateway could not be reached."""


class StateError(NbuPushError):
    """The run state could not be written; the next run starts from the previous one."""


class Incomplete(NbuPushError):
    """A collector stopped part-way (deadline, signal, a failing slice) but made progress
    worth keeping in the run state: `summary` holds it, `cause` is why it stopped."""

    def __init__(self, cause: BaseException, summary: object) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.summary = summary
        self.exit_code = getattr(cause, "exit_code", EXIT_FAILED)


class DeadlineExceeded(TemporaryError):
    """The run deadline passed, or the run was cancelled, before this step could start."""


class LockHeld(TemporaryError):
    """Another nbu-push run for the same site still holds the lock."""


class Interrupted(NbuPushError):
    """SIGTERM or SIGINT: the run stops fetching and ends in 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum
