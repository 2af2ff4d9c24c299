"""The run state: what one run hands to the next, per site, in one small JSON file.

It holds, per collector, whatever that collector needs to continue (the jobs collector: its
watermark, its counters and per-minute buckets; see docs/state.md). It is read at the start
of a run and written at the end, atomically (temp file, fsync, rename, fsync of the folder).
A missing, unreadable, corrupt, future-version, other-site or other-server state is one
warning and a fresh start, never a crash.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .runtime.errors import StateError
from .runtime.files import site_file_name, utf8_pieces, write_atomic

FORMAT = 1
SYSTEM_DIRECTORY = "/var/lib/nbu-push"


def default_path(site: str, environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """`$STATE_DIRECTORY` (systemd), else /var/lib/nbu-push when writable, else the user's
    XDG state directory; one file per site."""
    name = site_file_name(site, ".json")
    systemd = (environ.get("STATE_DIRECTORY") or "").split(":")[0]
    if systemd:
        return os.path.join(systemd, name)
    if os.path.isdir(SYSTEM_DIRECTORY) and os.access(SYSTEM_DIRECTORY, os.W_OK | os.X_OK):
        return os.path.join(SYSTEM_DIRECTORY, name)
    xdg = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                        "state")
    return os.path.join(xdg, "nbu-push", name)


@dataclass
class RunState:
    site: str
    server: str  # the NetBackup base URL: another primary's state is not ours
    collectors: dict[str, Any] = field(default_factory=dict)  # name -> its own JSON value
    outputs: dict[str, Any] = field(default_factory=dict)  # sink name -> its JSON value (remote
    # write: the series it wrote)

    def json_chunks(self) -> Iterator[str]:
        return json_chunks({"format": FORMAT, "site": self.site, "server": self.server,
                            "collectors": self.collectors,
                            "outputs": dict(self.outputs)})  # a copy: an output abandoned
        # at its deadline may still set its entry from its thread


_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
ROWS_PER_PIECE = 1000
FILE_MODE = 0o600


def json_chunks(value: Any) -> Iterator[str]:
    """The JSON text of a value in pieces: a dict key by key, an iterator (a collector's
    large table, made row by row as it is written rather than held whole: the jobs ledger's
    buckets are tens of thousands of rows) a thousand items at a time, each piece encoded in
    one call (its items are plain JSON values), anything else in one piece. A NaN or
    infinity raises ValueError, as json.dumps(allow_nan=False) does."""
    if isinstance(value, msgspec.Raw):  # a part read and not used: written back as it was
        yield bytes(value).decode("utf-8")
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + _encode(str(key)) + ":"
            yield from json_chunks(item)
        yield "}"
    elif isinstance(value, Iterator):
        yield "["
        separator = ""
        while piece := list(itertools.islice(value, ROWS_PER_PIECE)):
            yield separator + _encode(piece)[1:-1]
            separator = ","
        yield "]"
    else:
        yield _encode(value)


def load(path: str | None, site: str, server: str) -> tuple[RunState, str | None]:
    """The saved state, or a fresh one and the warning that says why."""
    fresh = RunState(site, server)
    if path is None:
        return fresh, None
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return fresh, None
    except OSError as exc:
        return fresh, f"state file {path} is unreadable ({exc.strerror or exc}); starting afresh"
    try:
        document = _decode_document(raw)
    except msgspec.ValidationError:
        return fresh, f"state file {path} is not an nbu-push state; starting afresh"
    except msgspec.DecodeError:
        return fresh, f"state file {path} is corrupt (not JSON); starting afresh"
    if document.collectors is None:
        return fresh, f"state file {path} is not an nbu-push state; starting afresh"
    if document.format != FORMAT:
        return fresh, (f"state file {path} has format {document.format!r}, this nbu-push"
                       f" reads {FORMAT}; starting afresh")
    if document.site != site or document.server != server:
        return fresh, (f"state file {path} belongs to site {document.site!r} at"
                       f" {document.server!r}; starting afresh")
    outputs = document.outputs  # absent in a state written before remote write
    # each part copied out of the file's bytes, which go now: a part replaced by its
    # collector's new state is freed at once (run.py), not held by a part still in use
    parts = {name: msgspec.Raw(bytes(part)) for name, part in document.collectors.items()}
    return RunState(site, server, parts, outputs if isinstance(outputs, dict) else {}), None


class _Document(msgspec.Struct):
    """The state file's envelope. Each collector's part stays JSON text (msgspec.Raw,
    syntax checked): the collector decodes it when it runs (CollectContext.state), so the
    run never holds the whole document as objects, and a part not used is written back as
    it was read."""

    format: Any = None
    site: Any = None
    server: Any = None
    collectors: dict[str, msgspec.Raw] | None = None
    outputs: Any = None


_decode_document = msgspec.json.Decoder(_Document).decode


def save(path: str, state: RunState) -> None:
    """Write atomically (files.write_atomic): a crash leaves the old state or the new one,
    never a torn file."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
        write_atomic(path, utf8_pieces(state.json_chunks()), FILE_MODE)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StateError(f"state file {path}: {reason}") from None
