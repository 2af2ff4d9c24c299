"""Logging to stderr, text or JSON, with every known secret redacted from every line."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import datetime, timezone

REDACTED = "<redacted>"
WHOLE_WORD_BELOW = 8  # shorter secrets are redacted only where they stand as a whole word
FIELDS = ("site", "collector", "duration_seconds", "http_status", "exit_code", "sink")


class RedactingFilter(logging.Filter):
    """Replace secret values in the final message: defence in depth, not the only guard."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                if len(secret) >= WHOLE_WORD_BELOW:
                    message = message.replace(secret, REDACTED)
                else:  # replacing every "ab" would garble the line and give the secret away
                    message = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", REDACTED,
                                     message)
            record.msg, record.args = message, None
            if record.exc_info:
                record.exc_info = None  # tracebacks may quote secrets; never print them
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        return json.dumps(entry, ensure_ascii=False)


class SiteFilter(logging.Filter):
    """Give every record the run's site, so that several primaries in one syslog can be told
    apart (text lines show it in brackets; JSON has it as a field)."""

    def __init__(self) -> None:
        super().__init__()
        self.site: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.site and not hasattr(record, "site"):
            record.site = self.site
        site = getattr(record, "site", None)
        record.site_prefix = f"[{site}] " if site else ""
        return True


SITE = SiteFilter()


def set_site(site: str) -> None:
    SITE.site = site


def setup_logging(log_format: str, level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(site_prefix)s%(message)s"))
    handler.addFilter(SITE)
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def add_secrets(secrets: Iterable[str]) -> None:
    """Register secrets learnt after setup (e.g. a login token) with every handler."""
    for handler in logging.getLogger().handlers:
        for flt in handler.filters:
            if isinstance(flt, RedactingFilter):
                flt.secrets = sorted({*flt.secrets, *(s for s in secrets if s)},
                                     key=len, reverse=True)
