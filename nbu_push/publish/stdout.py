"""`--dry-run`: the exposition on stdout, logs stay on stderr."""

from __future__ import annotations

import sys


class StdoutSink:
    name = "stdout"

    def publish(self, payload: bytes, complete: bool) -> None:
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
