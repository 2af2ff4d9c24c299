"""Settings: validated once, from the raw option values (flag > environment > env file).

Every problem is a ConfigError naming the setting, raised before anything is sent or written.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field

from .errors import ConfigError
from .lock import default_lock_path
from .netbackup.auth import Credentials
from .netbackup.version import parse_version

DEFAULT_PORT = 1556
DEFAULT_PATH = "/netbackup"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


@dataclass(frozen=True)
class PushgatewaySettings:
    url: str
    job: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True


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
    textfile: str | None = None
    dry_run: bool = False
    balance_slices: bool = True  # NBU_JOB_SLICING=count (default) or time
    lock_file: str | None = None  # None: no lock (NBU_LOCK_FILE=off, or --dry-run)
    max_series: int = 5000

    def secrets(self) -> list[str]:
        """Every secret value, so logging can redact it wherever it shows up."""
        found = self.credentials.secrets()
        if self.pushgateway:
            found += [s for s in (self.pushgateway.password, self.pushgateway.token) if s]
        return found


def parse_duration(value: str | None, setting: str) -> float:
    """`90`, `30s`, `15m`, `1h`, `1d` (also `500ms`) as seconds; must be positive."""
    match = _DURATION.match(value or "")
    if not match:
        raise ConfigError(f"{setting}: {value!r} is not a duration such as 30s, 15m or 1h")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{setting}: the duration must be positive")
    return seconds


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
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{setting}: {value!r} is not a host name or an http(s) URL")
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
        raise ConfigError("NBU_URL is not set: name the NetBackup primary server (or use --demo)")
    parts = _split_url(value, "NBU_URL", "https")
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
    return value or None


def credentials_from(raw: dict) -> Credentials:
    api_key = header_safe(_one_of(raw.get("api_key"), raw.get("api_key_file"), "NBU_API_KEY"),
                          "NBU_API_KEY")
    password = _one_of(raw.get("password"), raw.get("password_file"), "NBU_PASSWORD")
    username = raw.get("username") or None
    if api_key and username:
        raise ConfigError("NBU_API_KEY and NBU_USERNAME are both set: use one way to log in")
    if username and not password:
        raise ConfigError("NBU_USERNAME is set but NBU_PASSWORD (or NBU_PASSWORD_FILE) is not")
    if not api_key and not username:
        raise ConfigError("no NetBackup credentials: set NBU_API_KEY_FILE (or NBU_API_KEY),"
                          " or NBU_USERNAME and NBU_PASSWORD")
    return Credentials(api_key=api_key, username=username, password=password,
                       domain_type=raw.get("domain_type") or None,
                       domain_name=raw.get("domain_name") or None)


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
        raise ConfigError(f"NBU_PUSH_TEXTFILE: {value} must end in .prom"
                          " (node_exporter reads only *.prom files)")
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise ConfigError(f"NBU_PUSH_TEXTFILE: directory {directory} does not exist")
    return path


def pushgateway_from(raw: dict) -> PushgatewaySettings | None:
    if not raw.get("pushgateway"):
        return None
    username, password = raw.get("pushgateway_username"), raw.get("pushgateway_password")
    token = header_safe(raw.get("pushgateway_token") or None, "PUSHGATEWAY_TOKEN")
    if bool(username) != bool(password):
        raise ConfigError("PUSHGATEWAY_USERNAME and PUSHGATEWAY_PASSWORD go together")
    if token and username:
        raise ConfigError("PUSHGATEWAY_TOKEN and PUSHGATEWAY_USERNAME are both set: keep one")
    job = (raw.get("pushgateway_job") or "nbu-push").strip()
    if not job:
        raise ConfigError("PUSHGATEWAY_JOB must not be empty")
    return PushgatewaySettings(
        url=http_url(raw["pushgateway"], "PUSHGATEWAY_URL"), job=job,
        username=username or None, password=password or None, token=token,
        verify=tls_verify(raw.get("pushgateway_ca_bundle"), False, "PUSHGATEWAY_CA_BUNDLE"),
    )


def delete_target(raw: dict) -> tuple[PushgatewaySettings, str]:
    """The Pushgateway and site whose group `--delete` removes; no NetBackup settings needed."""
    gateway = pushgateway_from(raw)
    if gateway is None:
        raise ConfigError("--delete needs PUSHGATEWAY_URL (--pushgateway)")
    site = (raw.get("site") or "").strip() or netbackup_url(raw.get("url"))[1]
    return gateway, site


def settings_from(raw: dict) -> Settings:
    """Validate the raw option values (strings, None when unset) into Settings."""
    pushgateway = pushgateway_from(raw)
    textfile = textfile_path(raw["textfile"]) if raw.get("textfile") else None
    dry_run = bool(raw.get("dry_run"))
    if not (pushgateway or textfile or dry_run):
        raise ConfigError("no output: set PUSHGATEWAY_URL (--pushgateway) and/or"
                          " NBU_PUSH_TEXTFILE (--textfile), or use --dry-run")
    base_url, host = netbackup_url(raw.get("url"))
    api_version = (raw.get("api_version") or "").strip() or None
    if api_version and parse_version(api_version) is None:
        raise ConfigError(f"NBU_API_VERSION: {api_version!r} is not a version such as 12.0")
    site = (raw.get("site") or host).strip()
    if not site:
        raise ConfigError("NBU_SITE must not be empty")
    return Settings(
        base_url=base_url,
        site=site,
        credentials=credentials_from(raw),
        api_version=api_version,
        verify=tls_verify(raw.get("ca_bundle"), bool(raw.get("insecure")), "NBU_CA_BUNDLE"),
        timeout=parse_duration(raw.get("timeout") or "30s", "NBU_TIMEOUT"),
        job_window=parse_duration(raw.get("job_window") or "1h", "NBU_JOB_WINDOW"),
        concurrency=parse_int(raw.get("concurrency") or 4, "NBU_CONCURRENCY", 1, 32),
        max_pages=parse_int(raw.get("max_pages") or 10_000, "NBU_MAX_PAGES", 1, 1_000_000),
        deadline=parse_duration(raw.get("deadline") or "3m", "NBU_DEADLINE"),
        pushgateway=pushgateway,
        textfile=textfile,
        dry_run=dry_run,
        balance_slices=job_slicing(raw.get("job_slicing")),
        lock_file=lock_path(raw.get("lock_file"), site, dry_run),
        max_series=parse_int(raw.get("max_series") or 5000, "NBU_MAX_SERIES", 1, 1_000_000),
    )


def job_slicing(value: str | None) -> bool:
    choice = (value or "count").strip().lower()
    if choice not in ("count", "time"):
        raise ConfigError(f"NBU_JOB_SLICING: {value!r} is not count or time")
    return choice == "count"


def lock_path(value: str | None, site: str, dry_run: bool) -> str | None:
    """The lock file: the given path, none for `off` or a dry run, else one per site in /tmp."""
    if dry_run or (value or "").strip().lower() in ("off", "none", "false", "0"):
        return None
    if value and value.strip():
        path = os.path.abspath(value.strip())
        if not os.path.isdir(os.path.dirname(path)):
            raise ConfigError(f"NBU_LOCK_FILE: directory {os.path.dirname(path)} does not exist")
        return path
    return default_lock_path(site)
