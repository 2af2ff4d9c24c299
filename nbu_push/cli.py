"""`nbu-push`: click options -> Settings -> run() -> exit code."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable

import click

from . import __version__
from .config import (
    OPTIONS,
    SECRET_OPTIONS,
    Option,
    delete_target,
    logging_choice,
    settings_from,
)
from .runtime.errors import EXIT_CODES, EXIT_CONFIG, EXIT_FAILED, ConfigError, NbuPushError
from .runtime.logs import add_secrets, set_site, setup_logging

log = logging.getLogger("nbu_push")


def _epilog() -> str:
    """Precedence and the exit-code table (errors.EXIT_CODES, the only copy)."""
    lines = ["\b", "Precedence: flag > environment variable > env file > default.", "\b",
             "Exit codes:"]
    lines += [f"  {code:<9} {meaning}" for code, meaning in EXIT_CODES]
    return "\n".join(lines)


def _load_env_file(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Eager: turn the env file into click defaults, below flags and the real environment."""
    path = value or (".env" if os.path.isfile(".env") else None)
    if path is None:
        return None
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        ctx.meta["env_file_error"] = f"--env-file: cannot read {path}"
        return path
    if os.stat(path).st_mode & 0o027:  # group-readable is fine (cron's nbu-push group)
        ctx.meta["env_file_warning"] = (f"env file {path} is readable by others or writable"
                                        " by its group; chmod 640 (or 600) it")
    from dotenv import dotenv_values  # only when there is a file: 8 ms of every start

    by_envvar = {p.envvar: p.name for p in ctx.command.params if isinstance(p.envvar, str)}
    values = dotenv_values(path)
    ctx.default_map = {by_envvar[k]: v for k, v in values.items() if k in by_envvar and v}
    return path


def _click_option(option: Option) -> Callable:
    if option.metavar is None:
        return click.option(option.flag, option.name, envvar=option.envvar, show_envvar=True,
                            help=option.help, is_flag=True, default=False)
    kind = click.Choice(option.choices, case_sensitive=False) if option.choices else None
    return click.option(option.flag, option.name, envvar=option.envvar, show_envvar=True,
                        help=option.help_text, metavar=option.metavar, type=kind)


CLICK_OPTIONS = [
    click.option("--env-file", envvar="NBU_PUSH_ENV_FILE", show_envvar=True, is_eager=True,
                 callback=_load_env_file, expose_value=False, metavar="PATH",
                 help="dotenv file with settings [default: ./.env when present]"),
    *(_click_option(option) for option in OPTIONS),
]


def _with_options(function: Callable) -> Callable:
    for option in reversed(CLICK_OPTIONS):
        function = option(function)
    return function


@click.command(epilog=_epilog(), context_settings={"max_content_width": 100,
                                                  "help_option_names": ["-h", "--help"]})
@_with_options
@click.argument("action", required=False, type=click.Choice(["check"]), metavar="[check]")
@click.version_option(__version__, prog_name="nbu-push")
@click.pass_context
def cli(ctx: click.Context, action: str | None, demo: bool, delete: bool,
        **raw: object) -> None:
    """Read NetBackup jobs and storage once, publish them for Prometheus, exit.

    Push to a Pushgateway (--pushgateway), write a node_exporter textfile (--textfile),
    or both; --dry-run prints the metrics instead. Run it from cron, a systemd timer or a
    Kubernetes CronJob.

    `nbu-push check` checks the installation instead (configuration, DNS, TCP, TLS, the
    key, each collector's permission, the outputs), one line each; nothing is sent.
    """
    try:
        log_format, level = logging_choice(raw)
    except ConfigError as exc:
        setup_logging("text", "info")
        log.error("configuration error: %s", exc)
        ctx.exit(EXIT_CONFIG)
    secrets = [str(raw[name]) for name in SECRET_OPTIONS if raw.get(name)]
    setup_logging(log_format, level, secrets)
    if "env_file_warning" in ctx.meta:
        log.warning("%s", ctx.meta["env_file_warning"])
    if action == "check":
        from .check import run_check

        if "env_file_error" in ctx.meta:
            setup_logging("text", "info")
            log.error("configuration error: %s", ctx.meta["env_file_error"])
            ctx.exit(EXIT_CONFIG)
        fmt = str(raw.get("check_format") or "text").lower()
        ctx.exit(run_check(raw, fmt, click.echo))
    ctx.exit(_main(ctx, demo, delete, raw))


def _main(ctx: click.Context, demo: bool, delete: bool, raw: dict) -> int:
    from .run import delete_group, run
    from .runtime.allocator import share_one_arena  # imported late: --help stays fast

    share_one_arena()  # before the first thread
    simulator = None
    try:
        if "env_file_error" in ctx.meta:
            raise ConfigError(ctx.meta["env_file_error"])
        if delete:
            return delete_group(*delete_target(raw))
        if demo:
            from .simulator.demo import start_demo

            simulator, overrides = start_demo()
            raw.update(overrides, site=raw.get("site") or "demo")
        settings = settings_from(raw)
        add_secrets(settings.secrets())
        set_site(settings.site)
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
    """The console entry point. It ends the process with os._exit: a thread still stuck in
    a socket read (a peer that trickles bytes) must not keep a finished run alive."""
    try:
        returned = cli.main(prog_name="nbu-push", standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except click.BadParameter as exc:  # a known option with a bad value: a configuration error
        setup_logging("text", "info")
        log.error("configuration error: %s", " ".join(exc.format_message().split()))
        code = EXIT_CONFIG
    except click.ClickException as exc:  # unknown option, missing value: click's usage error
        exc.show()
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except (KeyboardInterrupt, click.exceptions.Abort):  # pragma: no cover
        code = 130
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to flush to
            stream.flush()
    os._exit(code)
