"""node_exporter textfile: written atomically, readable by node_exporter, never half-written."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from ..errors import PublishError
from . import Payload
from .exposition import merged

FILE_MODE = 0o644


def write_atomic(path: str, chunks: Iterable[bytes]) -> None:
    """Temp file in the same directory (not *.prom), fsync, chmod 0644, rename, fsync dir.
    Whatever stops the writing (an exception from `chunks` too) removes the temp file."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # a leftover, or a planted link: unlink never follows it
        # O_EXCL | O_NOFOLLOW: never write through a link someone made at the temp name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # defeat the umask
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise PublishError(f"textfile {path}: {exc.strerror or exc}") from None
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not all filesystems can
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class TextfileSink:
    name = "textfile"

    def __init__(self, path: str) -> None:
        self.path = path

    def publish(self, payload: Payload, complete: bool) -> None:
        chunks = payload()
        if not complete:
            try:
                with open(self.path, "rb") as handle:
                    chunks = merged(handle.read(), chunks)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise PublishError(f"textfile {self.path}: {exc.strerror or exc}") from None
        write_atomic(self.path, chunks)
