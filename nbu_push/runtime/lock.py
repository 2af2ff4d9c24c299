"""One run at a time per site: an advisory flock on a lock file, released on exit."""

from __future__ import annotations

import fcntl
import os
import tempfile

from .errors import ConfigError, LockHeld
from .files import site_file_name


def default_lock_path(site: str) -> str:
    return os.path.join(tempfile.gettempdir(), "nbu-push-" + site_file_name(site, ".lock"))


class RunLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"NBU_LOCK_FILE: cannot open {self.path}:"
                              f" {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockHeld(f"another nbu-push run holds {self.path}; this run is skipped"
                           ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock; the file stays for the next run
            self._fd = None
