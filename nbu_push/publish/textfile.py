"""node_exporter textfile: written atomically, readable by node_exporter, never half-written."""

from __future__ import annotations

from ..metrics.text import merged
from ..runtime.errors import PublishError
from ..runtime.files import write_atomic
from . import Payload

FILE_MODE = 0o644


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
        try:
            write_atomic(self.path, chunks, FILE_MODE)
        except OSError as exc:
            raise PublishError(f"textfile {self.path}: {exc.strerror or exc}") from None
