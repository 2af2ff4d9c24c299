"""Settings: one table of options, validated once into typed Settings.

Each option is declared once in OPTIONS (flag, environment variable, default, help); the CLI
builds its click options from the table and `--help` shows the same defaults the parsers
use. Every problem is a ConfigError naming the setting, raised before anything is sent or
written. Settings build the objects they configure (client, outputs, collect context).
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .netbackup.auth import Credentials
from .netbackup.version import parse_version
from .runtime.errors import ConfigError
from .runtime.lock import default_lock_path

if TYPE_CHECKING:  # imported when used: `--help` must not pay for requests
    from .collect.base import CollectContext
    from .netbackup.client import NetBackupClient
    from .publish import Sink
    from .publish.pushgateway import PushgatewaySink
    from .publish.remote_write import RemoteWriteSink
    from .runtime.deadline import Deadline
    from .runtime.stats import CollectorStats

DEFAULT_PORT = 1556
DEFAULT_PATH = "/netbackup"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


@dataclass(frozen=True)
class Option:
    """One setting: its flag, environment variable, default and help, in one place."""

    name: str  # the Python name (click's parameter name)
    flag: str
    envvar: str
    metavar: str | None  # None: an on/off flag
    help: str
    default: str | None = None  # parsed exactly like a value the user gives
    computed_default: str | None = None  # shown in --help when the default depends on others
    choices: tuple[str, ...] = ()  # the only values (click offers them to shell completion)

    @property
    def help_text(self) -> str:
        shown = self.default or self.computed_default
        return f"{self.help} [default: {shown}]" if shown else self.help


OPTIONS: tuple[Option, ...] = (
    Option("url", "--url", "NBU_URL", "URL",
           "NetBackup primary: host, host:port or URL (port 1556, path /netbackup if omitted)"),
    Option("api_key", "--api-key", "NBU_API_KEY", "KEY",
           "NetBackup API key (prefer NBU_API_KEY_FILE)"),
    Option("api_key_file", "--api-key-file", "NBU_API_KEY_FILE", "PATH",
           "file holding the API key"),
    Option("username", "--username", "NBU_USERNAME", "USER",
           "user for POST /login instead of an API key"),
    Option("password", "--password", "NBU_PASSWORD", "PASSWORD",
           "password for --username (prefer NBU_PASSWORD_FILE)"),
    Option("password_file", "--password-file", "NBU_PASSWORD_FILE", "PATH",
           "file holding the password"),
    Option("domain_type", "--domain-type", "NBU_DOMAIN_TYPE", "TYPE",
           "login domain type: NT, vx, unixpwd, ldap"),
    Option("domain_name", "--domain-name", "NBU_DOMAIN_NAME", "NAME", "login domain name"),
    Option("api_version", "--api-version", "NBU_API_VERSION", "VERSION",
           "pin the API media-type version, e.g. 12.0", computed_default="negotiate"),
    Option("ca_bundle", "--ca-bundle", "NBU_CA_BUNDLE", "PATH",
           "CA certificate(s) of the NetBackup server",
           computed_default="REQUESTS_CA_BUNDLE, else certifi's"),
    Option("insecure", "--insecure", "NBU_INSECURE", None,
           "do not verify NetBackup's TLS certificate (warned on every run)"),
    Option("timeout", "--timeout", "NBU_TIMEOUT", "DURATION",
           "per-request timeout (NetBackup and the Pushgateway)", "30s"),
    Option("job_window", "--job-window", "NBU_JOB_WINDOW", "DURATION[,DURATION]",
           "window gauges over the jobs that ended within it; several add a `window` label",
           "1h"),
    Option("job_settle", "--job-settle", "NBU_JOB_SETTLE", "DURATION",
           "jobs that ended this close to the primary's clock are read next run", "2m"),
    Option("job_backfill", "--job-backfill", "NBU_JOB_BACKFILL", "DURATION",
           "how far back a run without state reads jobs", "24h"),
    Option("state_file", "--state-file", "NBU_STATE_FILE", "PATH|off",
           "the run state kept between runs (off: every run is a first run)",
           computed_default="<site>.json in $STATE_DIRECTORY, else /var/lib/nbu-push if"
                            " writable, else ~/.local/state/nbu-push"),
    Option("concurrency", "--concurrency", "NBU_CONCURRENCY", "N",
           "parallel job cursor chains", "4"),
    Option("job_slicing", "--job-slicing", "NBU_JOB_SLICING", "count|time",
           "cut the window into slices of equal job count (count requests, finer where jobs"
           " bunch up) or equal time", "count", choices=("count", "time")),
    Option("max_pages", "--max-pages", "NBU_MAX_PAGES", "N", "page cap per cursor chain",
           "10000"),
    Option("deadline", "--deadline", "NBU_DEADLINE", "DURATION", "the collection ends by then",
           "3m"),
    Option("lock_file", "--lock-file", "NBU_LOCK_FILE", "PATH|off",
           "lock against overlapping runs", computed_default="$TMPDIR/nbu-push-<site>.lock"),
    Option("collectors", "--collectors", "NBU_COLLECTORS", "NAMES",
           "comma-separated collectors to run (jobs, storage, job_states, slp_backlog,"
           " disk_pools, licensing, catalog_backup, configured_clients, clients, tape_drives,"
           " tape_media, media_servers, storage_servers, anomalies, malware, alerts,"
           " certificates)", "all"),
    Option("client_lookups", "--client-lookups", "NBU_CLIENT_LOOKUPS", "N",
           "configured clients never seen in a job that are looked up per run", "200"),
    Option("client_include", "--client-include", "NBU_CLIENT_INCLUDE", "REGEX",
           "only clients whose whole name matches (per-client metrics)"),
    Option("client_exclude", "--client-exclude", "NBU_CLIENT_EXCLUDE", "REGEX",
           "leave out clients whose whole name matches (per-client metrics)"),
    Option("client_retention", "--client-retention", "NBU_CLIENT_RETENTION", "DURATION",
           "a client neither configured nor seen in a job for this long is forgotten", "30d"),
    Option("tape_media_interval", "--tape-media-interval", "NBU_TAPE_MEDIA_INTERVAL",
           "DURATION", "tape media are read at most this often (the counts are kept between"
           " runs)", "1h"),
    Option("max_series", "--max-series", "NBU_MAX_SERIES", "N",
           "cap on series per metric; the rest is dropped and counted", "5000"),
    Option("site", "--site", "NBU_SITE", "NAME",
           "`site` label and Pushgateway grouping key",
           computed_default="the primary's host name"),
    Option("pushgateway", "--pushgateway", "PUSHGATEWAY_URL", "URL", "push to this Pushgateway"),
    Option("pushgateway_job", "--pushgateway-job", "PUSHGATEWAY_JOB", "NAME",
           "Pushgateway job name", "nbu-push"),
    Option("pushgateway_username", "--pushgateway-username", "PUSHGATEWAY_USERNAME", "USER",
           "Pushgateway basic-auth user"),
    Option("pushgateway_password", "--pushgateway-password", "PUSHGATEWAY_PASSWORD",
           "PASSWORD", "Pushgateway basic-auth password"),
    Option("pushgateway_token", "--pushgateway-token", "PUSHGATEWAY_TOKEN", "TOKEN",
           "bearer token for a proxy in front of the Pushgateway"),
    Option("pushgateway_ca_bundle", "--pushgateway-ca-bundle", "PUSHGATEWAY_CA_BUNDLE", "PATH",
           "CA bundle for an https Pushgateway",
           computed_default="REQUESTS_CA_BUNDLE, else certifi's"),
    Option("remote_write", "--remote-write", "NBU_REMOTE_WRITE_URL", "URL",
           "send to this Prometheus remote-write endpoint (Prometheus, Mimir, Thanos,"
           " VictoriaMetrics)"),
    Option("remote_write_username", "--remote-write-username", "NBU_REMOTE_WRITE_USERNAME",
           "USER", "remote-write basic-auth user"),
    Option("remote_write_password_file", "--remote-write-password-file",
           "NBU_REMOTE_WRITE_PASSWORD_FILE", "PATH", "file with the remote-write basic-auth"
           " password"),
    Option("remote_write_bearer_token_file", "--remote-write-bearer-token-file",
           "NBU_REMOTE_WRITE_BEARER_TOKEN_FILE", "PATH",
           "file with a bearer token for the remote-write endpoint"),
    Option("remote_write_ca_bundle", "--remote-write-ca-bundle", "NBU_REMOTE_WRITE_CA_BUNDLE",
           "PATH", "CA bundle for an https remote-write endpoint",
           computed_default="REQUESTS_CA_BUNDLE, else certifi's"),
    Option("textfile", "--textfile", "NBU_PUSH_TEXTFILE", "PATH",
           "write this node_exporter textfile (*.prom)"),
    Option("dry_run", "--dry-run", "NBU_PUSH_DRY_RUN", None,
           "print the metrics to stdout; send and write nothing"),
    Option("demo", "--demo", "NBU_PUSH_DEMO", None,
           "read the built-in NetBackup simulator, not a server"),
    Option("delete", "--delete", "NBU_PUSH_DELETE", None,
           "delete this site's group from the Pushgateway (a retired primary) and exit"),
    Option("check_format", "--format", "NBU_PUSH_CHECK_FORMAT", "text|json",
           "output of `nbu-push check`", "text", choices=("text", "json")),
    Option("log_format", "--log-format", "NBU_PUSH_LOG_FORMAT", "text|json",
           "log format on stderr", "text", choices=("text", "json")),
    Option("log_level", "--log-level", "NBU_PUSH_LOG_LEVEL", "LEVEL",
           "debug, info, warning or error", "info",
           choices=("debug", "info", "warning", "error")),
)
OPTION = {option.name: option for option in OPTIONS}
SECRET_OPTIONS = ("api_key", "password", "pushgateway_password", "pushgateway_token")

Raw = Mapping[str, object]  # option name -> the value as given (None when unset)


def env(name: str) -> str:
    """The environment variable of option `name`: the one spelling messages use."""
    return OPTION[name].envvar


def value(raw: Raw, name: str) -> str | None:
    """The value given for option `name`, else its declared default; None when neither."""
    given = raw.get(name)
    if given is None or given == "":
        return OPTION[name].default
    return str(given)


@dataclass(frozen=True)
class CollectorOptions:
    """The options only some collectors read, typed; their defaults are those of OPTIONS."""

    client_lookups: int  # configured clients never seen in a job, looked up per run
    client_include: str | None  # a regular expression for the whole client name
    client_exclude: str | None
    client_retention: float  # seconds
    tape_media_interval: float  # seconds


def collector_options(raw: Raw) -> CollectorOptions:
    return CollectorOptions(
        client_lookups=parse_int(value(raw, "client_lookups"), env("client_lookups"), 0,
                                 100_000),
        client_include=regex(value(raw, "client_include"), env("client_include")),
        client_exclude=regex(value(raw, "client_exclude"), env("client_exclude")),
        client_retention=parse_duration(value(raw, "client_retention"),
                                        env("client_retention"), maximum=3650 * 86400),
        tape_media_interval=parse_duration(value(raw, "tape_media_interval"),
                                           env("tape_media_interval"), maximum=7 * 86400,
                                           zero=True))


@dataclass(frozen=True)
class PushgatewaySettings:
    url: str
    job: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = 30.0

    def sink(self, site: str, deadline: Deadline | None = None) -> PushgatewaySink:
        """The one constructor of the Pushgateway output (runs and --delete alike)."""
        from .publish.pushgateway import PushgatewaySink

        return PushgatewaySink(self.url, self.job, {"site": site}, username=self.username,
                               password=self.password, token=self.token, verify=self.verify,
                               timeout=self.timeout, deadline=deadline)


@dataclass(frozen=True)
class RemoteWriteSettings:
    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    verify: bool | str = True
    timeout: float = 30.0

    def sink(self, deadline: Deadline, timestamp_ms: int, kept: dict[str, Any],
             keep: frozenset[str] = frozenset()) -> RemoteWriteSink:
        """The remote-write output; `kept` is the run state's part for outputs, where it
        finds the series the previous run wrote and leaves those of this one; `keep`, the
        metric names of the collectors that failed (their series are not marked stale)."""
        from .publish.remote_write import RemoteWriteSink
        from .runtime.http import basic_or_bearer

        return RemoteWriteSink(self.url, basic_or_bearer(self.username, self.password,
                                                         self.token),
                               self.verify, self.timeout, deadline, timestamp_ms, kept, keep)


@dataclass(frozen=True)
class Settings:
    base_url: str
    site: str
    credentials: Credentials
    api_version: str | None = None
    verify: bool | str = True
    timeout: float = 30.0
    job_window: float = 3600.0
    concurrency: int = 4
    max_pages: int = 10_000
    deadline: float = 180.0
    pushgateway: PushgatewaySettings | None = None
    remote_write: RemoteWriteSettings | None = None
    textfile: str | None = None
    dry_run: bool = False
    job_windows: tuple[tuple[str, float], ...] = (("1h", 3600.0),)
    job_settle: float = 120.0
    job_backfill: float = 86400.0
    state_file: str | None = None  # None: no state kept (NBU_STATE_FILE=off)
    collector_options: CollectorOptions = field(
        default_factory=lambda: collector_options({}))
    balance_slices: bool = True  # NBU_JOB_SLICING=count (default) or time
    lock_file: str | None = None  # None: no lock (NBU_LOCK_FILE=off, or --dry-run)
    max_series: int = 5000
    collectors: tuple[str, ...] = ()  # empty: every declared collector

    def secrets(self) -> list[str]:
        """Every secret value, so logging can redact it wherever it shows up."""
        found = self.credentials.secrets()
        for output in (self.pushgateway, self.remote_write):
            if output is None:
                continue
            found += [s for s in (output.password, output.token) if s]
            if output.username and output.password:  # as a receiver may echo the header
                pair = f"{output.username}:{output.password}".encode("latin-1")
                found.append(base64.b64encode(pair).decode("ascii"))
        return found

    def client(self, deadline: Deadline, connections: int) -> NetBackupClient:
        """The NetBackup client: a connection for every job chain plus `connections` for the
        other collectors' parallel requests."""
        from .netbackup.client import NetBackupClient

        return NetBackupClient(self.base_url, verify=self.verify, timeout=self.timeout,
                               pool_size=self.concurrency + connections, deadline=deadline)

    def collect_context(self, now: float, stats: CollectorStats,
                        state: object = None) -> CollectContext:
        from .collect.base import CollectContext

        return CollectContext(now=now, job_window=self.job_window,
                              concurrency=self.concurrency, max_pages=self.max_pages,
                              stats=stats, balance_slices=self.balance_slices, saved=state,
                              settle=self.job_settle, backfill=self.job_backfill,
                              windows=self.job_windows, max_series=self.max_series,
                              options=self.collector_options)

    @property
    def state_saved_to(self) -> str | None:
        """Where the run saves its state: nowhere on a dry run, which only prints."""
        return None if self.dry_run else self.state_file

    def sinks(self, deadline: Deadline, timestamp_ms: int = 0,
              kept: dict[str, Any] | None = None,
              keep: frozenset[str] = frozenset()) -> list[Sink]:
        """Where the payload goes: stdout for a dry run, else the textfile, the gateway and
        the remote-write endpoint, those configured; `timestamp_ms`, `kept` and `keep` are
        for remote write (RemoteWriteSettings.sink)."""
        from .publish.stdout import StdoutSink
        from .publish.textfile import TextfileSink

        if self.dry_run:
            return [StdoutSink()]
        sinks: list[Sink] = []
        if self.textfile:
            sinks.append(TextfileSink(self.textfile))
        if self.pushgateway:
            sinks.append(self.pushgateway.sink(self.site, deadline))
        if self.remote_write:
            sinks.append(self.remote_write.sink(deadline, timestamp_ms,
                                                {} if kept is None else kept, keep))
        return sinks


def parse_duration(value: str | None, setting: str, maximum: float = 31 * 86400,
                   zero: bool = False) -> float:
    """`90`, `30s`, `15m`, `1h`, `1d` (also `500ms`) as seconds: positive (or zero when
    allowed) and at most `maximum`."""
    match = _DURATION.match(value or "")
    if not match:
        raise ConfigError(f"{setting}: {value!r} is not a duration such as 30s, 15m or 1h")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0 or (seconds == 0 and not zero):
        raise ConfigError(f"{setting}: the duration must be positive")
    if seconds > maximum:
        raise ConfigError(f"{setting}: {value!r} is longer than {maximum / 86400:g} days")
    return seconds


def job_windows(text: str | None) -> tuple[tuple[str, float], ...]:
    """`1h` or `1h,24h`: (label, seconds) per window, at most 7 days each, no repeats."""
    windows: dict[float, str] = {}
    for part in (text or "").split(","):
        seconds = parse_duration(part, env("job_window"), maximum=7 * 86400)
        if seconds in windows:
            raise ConfigError(f"{env('job_window')}: {part.strip()!r} repeats {windows[seconds]!r}")
        windows[seconds] = part.strip()
    return tuple((name, seconds) for seconds, name in windows.items())


def parse_int(value: object, setting: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{setting}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ConfigError(f"{setting}: {number} is outside {low}..{high}")
    return number


def _split_url(value: str, setting: str, default_scheme: str) -> urllib.parse.SplitResult:
    """A validated http(s) URL; a bare `host` or `host:port` gets `default_scheme`."""
    text = value.strip()
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ConfigError(f"{setting}: {value!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{setting}: {value!r} is not a host name or an http(s) URL")
    if not host.isascii() or any(c.isspace() or not c.isprintable() or c in "%<>\\^`{|}"
                                 for c in host):
        raise ConfigError(f"{setting}: {value!r} has characters no host name has")
    if parts.username or parts.password:
        raise ConfigError(f"{setting}: credentials do not belong in the URL")
    try:
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError:
        raise ConfigError(f"{setting}: {value!r} has an invalid port") from None
    return parts


def netbackup_url(value: str | None) -> tuple[str, str]:
    """`host`, `host:port` or a URL -> (`https://host:1556/netbackup`, host)."""
    if not value or not value.strip():
        raise ConfigError(f"{env('url')} is not set: name the NetBackup primary server (or use"
                          " --demo)")
    parts = _split_url(value, env("url"), "https")
    host, port = parts.hostname or "", parts.port or DEFAULT_PORT
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    path = parts.path.rstrip("/") or DEFAULT_PATH
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", "")), host


def http_url(value: str, setting: str) -> str:
    return urllib.parse.urlunsplit(_split_url(value, setting, "http")).rstrip("/")


def read_secret_file(path: str, setting: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            secret = handle.read().strip()
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{setting}: {path} is not a text file") from None
    if not secret:
        raise ConfigError(f"{setting}: {path} is empty")
    return secret


def _one_of(value: str | None, file_path: str | None, name: str) -> str | None:
    if value and file_path:
        raise ConfigError(f"{name} and {name}_FILE are both set: keep one")
    return read_secret_file(file_path, f"{name}_FILE") if file_path else (value or None)


def header_safe(value: str | None, setting: str) -> str | None:
    """A secret that goes into an HTTP header: surrounding blanks dropped, nothing else odd.

    requests would refuse it later with an error that quotes the value; say it here, unquoted.
    """
    if value is None:
        return None
    value = value.strip()
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        raise ConfigError(f"{setting} contains spaces or control characters")
    if not value.isascii():
        raise ConfigError(f"{setting} contains characters that cannot go into an HTTP header")
    return value or None


def credentials_from(raw: Raw) -> Credentials:
    api_key = header_safe(_one_of(value(raw, "api_key"), value(raw, "api_key_file"),
                                  env("api_key")), env("api_key"))
    password = _one_of(value(raw, "password"), value(raw, "password_file"), env("password"))
    username = value(raw, "username")
    if api_key and username:
        raise ConfigError(f"{env('api_key')} and {env('username')} are both set: use one way to"
                          " log in")
    if username and not password:
        raise ConfigError(f"{env('username')} is set but {env('password')} (or"
                          f" {env('password_file')}) is not")
    if not api_key and not username:
        raise ConfigError(f"no NetBackup credentials: set {env('api_key_file')} (or"
                          f" {env('api_key')}),"
                          f" or {env('username')} and {env('password')}")
    return Credentials(api_key=api_key, username=username, password=password,
                       domain_type=value(raw, "domain_type"),
                       domain_name=value(raw, "domain_name"))


def tls_verify(ca_bundle: str | None, insecure: bool, setting: str) -> bool | str:
    if ca_bundle and insecure:
        raise ConfigError(f"{setting} and --insecure contradict each other: keep one")
    if insecure:
        return False
    if ca_bundle:
        if not os.path.isfile(ca_bundle) or not os.access(ca_bundle, os.R_OK):
            raise ConfigError(f"{setting}: {ca_bundle} is not a readable file")
        return ca_bundle
    # What requests itself would use: the environment's bundle, else certifi's.
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def textfile_path(value: str) -> str:
    path = os.path.abspath(value)
    if not path.endswith(".prom"):
        raise ConfigError(f"{env('textfile')}: {value} must end in .prom"
                          " (node_exporter reads only *.prom files)")
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ConfigError(f"{env('textfile')}: directory {directory} does not exist")
    return path


def pushgateway_from(raw: Raw) -> PushgatewaySettings | None:
    url = value(raw, "pushgateway")
    if not url:
        return None
    username, password = value(raw, "pushgateway_username"), value(raw, "pushgateway_password")
    token = header_safe(value(raw, "pushgateway_token"), env("pushgateway_token"))
    if bool(username) != bool(password):
        raise ConfigError(f"{env('pushgateway_username')} and {env('pushgateway_password')} go"
                          " together")
    if token and username:
        raise ConfigError(f"{env('pushgateway_token')} and {env('pushgateway_username')} are"
                          " both set: keep one")
    basic_auth_safe({"pushgateway_username": username, "pushgateway_password": password})
    job = (value(raw, "pushgateway_job") or "").strip()
    if not job:
        raise ConfigError(f"{env('pushgateway_job')} must not be empty")
    return PushgatewaySettings(
        url=http_url(url, env("pushgateway")), job=job,
        username=username or None, password=password or None, token=token,
        verify=tls_verify(value(raw, "pushgateway_ca_bundle"), False, env("pushgateway_ca_bundle")),
        timeout=parse_duration(value(raw, "timeout"), env("timeout"), maximum=3600),
    )


def basic_auth_safe(secrets: dict[str, str | None]) -> None:
    """Basic-auth values (by option name) that HTTP can carry (latin-1), or ConfigError."""
    for name, secret in secrets.items():
        try:
            (secret or "").encode("latin-1")
        except UnicodeEncodeError:
            raise ConfigError(f"{env(name)} contains characters basic auth cannot carry"
                              ) from None


def remote_write_from(raw: Raw) -> RemoteWriteSettings | None:
    url = value(raw, "remote_write")
    if not url:
        return None
    username = value(raw, "remote_write_username")
    password_file = value(raw, "remote_write_password_file")
    token_file = value(raw, "remote_write_bearer_token_file")
    if bool(username) != bool(password_file):
        raise ConfigError(f"{env('remote_write_username')} and"
                          f" {env('remote_write_password_file')} go"
                          " together")
    if username and token_file:
        raise ConfigError(f"{env('remote_write_bearer_token_file')} and"
                          f" {env('remote_write_username')}"
                          " are both set: keep one")
    password = (read_secret_file(password_file, env("remote_write_password_file"))
                if password_file else None)
    token = header_safe(read_secret_file(token_file, env("remote_write_bearer_token_file"))
                        if token_file else None, env("remote_write_bearer_token_file"))
    basic_auth_safe({"remote_write_username": username,
                     "remote_write_password_file": password})
    return RemoteWriteSettings(
        url=http_url(url, env("remote_write")), username=username or None,
        password=password, token=token,
        verify=tls_verify(value(raw, "remote_write_ca_bundle"), False,
                          env("remote_write_ca_bundle")),
        timeout=parse_duration(value(raw, "timeout"), env("timeout"), maximum=3600))


def delete_target(raw: Raw) -> tuple[PushgatewaySettings, str]:
    """The Pushgateway and site whose group `--delete` removes; no NetBackup settings needed."""
    gateway = pushgateway_from(raw)
    if gateway is None:
        raise ConfigError(f"--delete needs {env('pushgateway')} (--pushgateway)")
    site = (value(raw, "site") or "").strip() or netbackup_url(value(raw, "url"))[1]
    return gateway, site


def settings_from(raw: Raw) -> Settings:
    """Validate the raw option values (strings, None when unset) into Settings."""
    pushgateway = pushgateway_from(raw)
    remote_write = remote_write_from(raw)
    textfile = value(raw, "textfile")
    dry_run = bool(raw.get("dry_run"))
    if not (pushgateway or textfile or remote_write or dry_run):
        raise ConfigError(f"no output: set {env('pushgateway')} (--pushgateway), {env('textfile')}"
                          f" (--textfile) and/or {env('remote_write')} (--remote-write), or use"
                          " --dry-run")
    base_url, host = netbackup_url(value(raw, "url"))
    api_version = (value(raw, "api_version") or "").strip() or None
    if api_version and parse_version(api_version) is None:
        raise ConfigError(f"{env('api_version')}: {api_version!r} is not a version such as 12.0")
    site = (value(raw, "site") or host).strip()
    if not site:
        raise ConfigError(f"{env('site')} must not be empty")
    windows = job_windows(value(raw, "job_window"))
    return Settings(
        base_url=base_url,
        site=site,
        credentials=credentials_from(raw),
        api_version=api_version,
        verify=tls_verify(value(raw, "ca_bundle"), bool(raw.get("insecure")), env("ca_bundle")),
        timeout=parse_duration(value(raw, "timeout"), env("timeout"), maximum=3600),
        job_window=windows[0][1],
        concurrency=parse_int(value(raw, "concurrency"), env("concurrency"), 1, 32),
        max_pages=parse_int(value(raw, "max_pages"), env("max_pages"), 1, 1_000_000),
        deadline=parse_duration(value(raw, "deadline"), env("deadline"), maximum=86400),
        pushgateway=pushgateway,
        remote_write=remote_write,
        textfile=textfile_path(textfile) if textfile else None,
        dry_run=dry_run,
        balance_slices=job_slicing(value(raw, "job_slicing")),
        lock_file=lock_path(value(raw, "lock_file"), site, dry_run),
        max_series=parse_int(value(raw, "max_series"), env("max_series"), 1, 1_000_000),
        collectors=collector_names(value(raw, "collectors")),
        job_windows=windows,
        job_settle=parse_duration(value(raw, "job_settle"), env("job_settle"), maximum=3600,
                                  zero=True),
        job_backfill=parse_duration(value(raw, "job_backfill"), env("job_backfill")),
        state_file=state_path(value(raw, "state_file"), site),
        collector_options=collector_options(raw),
    )


def regex(text: str | None, setting: str) -> str | None:
    """A regular expression, checked now so that a typo is a configuration error."""
    if not text:
        return None
    try:
        re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{setting}: {text!r} is not a regular expression ({exc})") from None
    return text


def state_path(text: str | None, site: str) -> str | None:
    """The run state file: the given path, none for `off`, else the default per site."""
    if (text or "").strip().lower() in ("off", "none", "false", "0"):
        return None
    if text and text.strip():
        return os.path.abspath(text.strip())
    from .state import default_path

    return default_path(site)


def collector_names(text: str | None) -> tuple[str, ...]:
    """`all`, or a comma-separated list of declared collectors (checked, in name order)."""
    from .collect import collectors

    declared = collectors()
    names = {name.strip().lower() for name in (text or "").split(",") if name.strip()}
    if not names or names == {"all"}:
        return tuple(declared)
    unknown = sorted(names - set(declared))
    if unknown:
        raise ConfigError(f"{env('collectors')}: unknown {', '.join(unknown)}; known: all,"
                          f" {', '.join(declared)}")
    return tuple(name for name in declared if name in names)


def logging_choice(raw: Raw) -> tuple[str, str]:
    """(format, level) of the logs, validated."""
    log_format = (value(raw, "log_format") or "").lower()
    level = (value(raw, "log_level") or "").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"{env('log_format')}: {log_format!r} is not text or json")
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{env('log_level')}: {level!r} is not debug, info, warning or error")
    return log_format, level


def job_slicing(text: str | None) -> bool:
    choice = (text or "").strip().lower()
    if choice not in ("count", "time"):
        raise ConfigError(f"{env('job_slicing')}: {text!r} is not count or time")
    return choice == "count"


def lock_path(text: str | None, site: str, dry_run: bool) -> str | None:
    """The lock file: the given path, none for `off` or a dry run, else one per site in /tmp."""
    if dry_run or (text or "").strip().lower() in ("off", "none", "false", "0"):
        return None
    if text and text.strip():
        path = os.path.abspath(text.strip())
        if not os.path.isdir(os.path.dirname(path)):
            raise ConfigError(f"{env('lock_file')}: directory {os.path.dirname(path)} does not"
                              " exist")
        return path
    return default_lock_path(site)
