"""Exceptions that carry the process exit code they end in.

Exit codes (documented in README.md and `nbu-push --help`):

| code | meaning |
|------|---------|
| 0  | every collector succeeded and every sink received the data |
| 1  | the run failed: nothing collected, or a sink rejected the data |
| 2  | usage error (unknown option, bad value type; click's own code) |
| 3  | partial: some collectors failed, the rest was delivered |
| 75 | temporary: NetBackup or the Pushgateway unreachable or busy, lock held |
| 78 | configuration error: nothing was sent or written |
"""

from __future__ import annotations

import os

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_TEMPFAIL = getattr(os, "EX_TEMPFAIL", 75)
EXIT_CONFIG = getattr(os, "EX_CONFIG", 78)


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


class PublishError(NbuPushError):
    """A sink did not take the data."""


class PublishUnavailable(PublishError, TemporaryError):
    """The Pushgateway could not be reached."""
