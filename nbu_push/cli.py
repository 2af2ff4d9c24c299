"""`nbu-push`: click options -> Settings -> run() -> exit code."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

import click
from dotenv import dotenv_values

from . import __version__
from .config import delete_target, settings_from
from .errors import EXIT_CONFIG, EXIT_FAILED, ConfigError, NbuPushError
from .logs import add_secrets, setup_logging

log = logging.getLogger("nbu_push")

EPILOG = """\b
Precedence: flag > environment variable > env file > default.
\b
Exit codes:
  0   success: every collector succeeded, every output written
  1   failed: nothing collected, or an output rejected the data
  2   usage error (unknown option)
  3   partial: some collectors failed; the rest was published
  75  temporary: NetBackup or the Pushgateway unreachable or busy, deadline
      reached, or another run holds the lock
  78  configuration error: nothing was sent or written
  130, 143  interrupted by SIGINT, SIGTERM (the failure status is still published)
"""


def _load_env_file(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Eager: turn the env file into click defaults, below flags and the real environment."""
    path = value or (".env" if os.path.isfile(".env") else None)
    if path is None:
        return None
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        ctx.meta["env_file_error"] = f"--env-file: cannot read {path}"
        return path
    if os.stat(path).st_mode & 0o077:
        ctx.meta["env_file_warning"] = (f"env file {path} is readable by group or others;"
                                        " chmod 600 it if it holds secrets")
    by_envvar = {p.envvar: p.name for p in ctx.command.params if isinstance(p.envvar, str)}
    values = dotenv_values(path)
    ctx.default_map = {by_envvar[k]: v for k, v in values.items() if k in by_envvar and v}
    return path


# flag, environment variable, metavar (None: an on/off flag), help
SETTINGS: list[tuple[str, str, str | None, str]] = [
    ("--url", "NBU_URL", "URL",
     "NetBackup primary: host, host:port or URL [default port 1556, path /netbackup]"),
    ("--api-key", "NBU_API_KEY", "KEY", "NetBackup API key (prefer NBU_API_KEY_FILE)"),
    ("--api-key-file", "NBU_API_KEY_FILE", "PATH", "file holding the API key"),
    ("--username", "NBU_USERNAME", "USER", "user for POST /login instead of an API key"),
    ("--password", "NBU_PASSWORD", "PASSWORD",
     "password for --username (prefer NBU_PASSWORD_FILE)"),
    ("--password-file", "NBU_PASSWORD_FILE", "PATH", "file holding the password"),
    ("--domain-type", "NBU_DOMAIN_TYPE", "TYPE", "login domain type: NT, vx, unixpwd, ldap"),
    ("--domain-name", "NBU_DOMAIN_NAME", "NAME", "login domain name"),
    ("--api-version", "NBU_API_VERSION", "VERSION",
     "pin the API media-type version, e.g. 12.0 [default: negotiate]"),
    ("--ca-bundle", "NBU_CA_BUNDLE", "PATH",
     "CA certificate(s) of the NetBackup server [default: REQUESTS_CA_BUNDLE, else"
     " certifi's]"),
    ("--insecure", "NBU_INSECURE", None,
     "do not verify NetBackup's TLS certificate (warned on every run)"),
    ("--timeout", "NBU_TIMEOUT", "DURATION", "per-request timeout [default: 30s]"),
    ("--job-window", "NBU_JOB_WINDOW", "DURATION",
     "count the jobs that ended within this window [default: 1h]"),
    ("--concurrency", "NBU_CONCURRENCY", "N", "parallel job cursor chains [default: 4]"),
    ("--job-slicing", "NBU_JOB_SLICING", "count|time",
     "cut the window into slices of equal job count (one count request per slice) or"
     " equal time [default: count]"),
    ("--max-pages", "NBU_MAX_PAGES", "N", "page cap per cursor chain [default: 10000]"),
    ("--deadline", "NBU_DEADLINE", "DURATION", "the collection ends by then [default: 3m]"),
    ("--lock-file", "NBU_LOCK_FILE", "PATH|off",
     "lock against overlapping runs [default: $TMPDIR/nbu-push-<site>.lock]"),
    ("--max-series", "NBU_MAX_SERIES", "N",
     "cap on series per metric; the rest is dropped and counted [default: 5000]"),
    ("--site", "NBU_SITE", "NAME",
     "`site` label and Pushgateway grouping key [default: the primary's host name]"),
    ("--pushgateway", "PUSHGATEWAY_URL", "URL", "push to this Pushgateway"),
    ("--pushgateway-job", "PUSHGATEWAY_JOB", "NAME", "Pushgateway job name [default: nbu-push]"),
    ("--pushgateway-username", "PUSHGATEWAY_USERNAME", "USER", "Pushgateway basic-auth user"),
    ("--pushgateway-password", "PUSHGATEWAY_PASSWORD", "PASSWORD",
     "Pushgateway basic-auth password"),
    ("--pushgateway-token", "PUSHGATEWAY_TOKEN", "TOKEN",
     "bearer token for a proxy in front of the Pushgateway"),
    ("--pushgateway-ca-bundle", "PUSHGATEWAY_CA_BUNDLE", "PATH",
     "CA bundle for an https Pushgateway [default: as --ca-bundle's]"),
    ("--textfile", "NBU_PUSH_TEXTFILE", "PATH", "write this node_exporter textfile (*.prom)"),
    ("--dry-run", "NBU_PUSH_DRY_RUN", None, "print the metrics to stdout; send and write nothing"),
    ("--demo", "NBU_PUSH_DEMO", None, "read the built-in NetBackup simulator, not a server"),
    ("--delete", "NBU_PUSH_DELETE", None,
     "delete this site's group from the Pushgateway (a retired primary) and exit"),
    ("--log-format", "NBU_PUSH_LOG_FORMAT", "text|json", "log format on stderr [default: text]"),
    ("--log-level", "NBU_PUSH_LOG_LEVEL", "LEVEL",
     "debug, info, warning or error [default: info]"),
]

OPTIONS = [
    click.option("--env-file", envvar="NBU_PUSH_ENV_FILE", show_envvar=True, is_eager=True,
                 callback=_load_env_file, expose_value=False, metavar="PATH",
                 help="dotenv file with settings [default: ./.env when present]"),
    *(click.option(flag, envvar=envvar, show_envvar=True, help=help_text, metavar=metavar)
      if metavar else
      click.option(flag, envvar=envvar, show_envvar=True, help=help_text, is_flag=True,
                   default=False)
      for flag, envvar, metavar, help_text in SETTINGS),
]


def _with_options(function: Callable) -> Callable:
    for option in reversed(OPTIONS):
        function = option(function)
    return function


def _logging_choice(raw: dict) -> tuple[str, str]:
    log_format = (raw.pop("log_format") or "text").lower()
    level = (raw.pop("log_level") or "info").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"NBU_PUSH_LOG_FORMAT: {log_format!r} is not text or json")
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"NBU_PUSH_LOG_LEVEL: {level!r} is not debug, info, warning or error")
    return log_format, level


@click.command(epilog=EPILOG, context_settings={"max_content_width": 100})
@_with_options
@click.version_option(__version__, prog_name="nbu-push")
@click.pass_context
def cli(ctx: click.Context, demo: bool, delete: bool, **raw: object) -> None:
    """Read NetBackup jobs and storage once, publish them for Prometheus, exit.

    Push to a Pushgateway (--pushgateway), write a node_exporter textfile (--textfile),
    or both; --dry-run prints the metrics instead. Run it from cron, a systemd timer or a
    Kubernetes CronJob.
    """
    try:
        log_format, level = _logging_choice(raw)
    except ConfigError as exc:
        setup_logging("text", "info")
        log.error("configuration error: %s", exc)
        ctx.exit(EXIT_CONFIG)
    secrets = [str(raw.get(k)) for k in ("api_key", "password", "pushgateway_password",
                                        "pushgateway_token") if raw.get(k)]
    setup_logging(log_format, level, secrets)
    if "env_file_warning" in ctx.meta:
        log.warning("%s", ctx.meta["env_file_warning"])
    ctx.exit(_main(ctx, demo, delete, raw))


def _main(ctx: click.Context, demo: bool, delete: bool, raw: dict) -> int:
    from .run import delete_group, run  # imported late: --help stays fast

    simulator = None
    try:
        if "env_file_error" in ctx.meta:
            raise ConfigError(ctx.meta["env_file_error"])
        if delete:
            return delete_group(*delete_target(raw))
        if demo:
            from .simulator.demo import start_demo

            simulator = start_demo(raw)
        settings = settings_from(raw)
        add_secrets(settings.secrets())
        return run(settings)
    except NbuPushError as exc:
        label = "configuration error" if isinstance(exc, ConfigError) else "error"
        log.error("%s: %s", label, exc)
        return exc.exit_code
    except Exception as exc:  # a bug: one line (secrets scrubbed), the trace only in debug
        log.error("internal error: %s: %s", type(exc).__name__, exc)
        log.debug("traceback", exc_info=True)
        return EXIT_FAILED
    finally:
        if simulator is not None:
            simulator.stop()


def main() -> None:
    try:
        cli.main(prog_name="nbu-push")
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
