"""Files written whole or not at all, in pieces: the node_exporter textfile and the run state.

A file goes to a temporary name in its folder (never written through a link planted there),
is fsynced, renamed over the old one, and the folder fsynced: a crash leaves the old file or
the new one. What is written comes in pieces of about 64 KiB, so neither the exposition nor
the state is held whole as one text.
"""

from __future__ import annotations

import contextlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator

PIECE_CHARACTERS = 1 << 16


def utf8_pieces(texts: Iterable[str], characters: int = PIECE_CHARACTERS) -> Iterator[bytes]:
    """Many small texts joined into UTF-8 pieces of about `characters` each."""
    pending: list[str] = []
    size = 0
    for text in texts:
        pending.append(text)
        size += len(text)
        if size >= characters:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()


def write_atomic(path: str, chunks: Iterable[bytes], mode: int) -> None:
    """Write `chunks` to `path` whole or not at all, with `mode` whatever the umask.
    Whatever stops the writing (an OSError of the file, an exception from `chunks`, a
    signal) removes the temporary file and is raised as it came."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # a leftover, or a planted link: unlink never follows it
        # O_EXCL | O_NOFOLLOW: never write through a link someone made at the temp name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # defeat the umask
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not all filesystems can
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def site_file_name(site: str, suffix: str) -> str:
    """A file name for a site: its safe characters, plus a checksum of the whole name when
    any were replaced, so that `a/b` and `a_b` never share a lock or a state file."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", site)[:100] or "default"
    if safe != site:
        safe += f"-{zlib.crc32(site.encode()):08x}"
    return safe + suffix
