"""`--dry-run`: the exposition on stdout, logs stay on stderr."""

from __future__ import annotations

import os
import sys


class StdoutSink:
    name = "stdout"

    def publish(self, payload: bytes, complete: bool) -> None:
        try:
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `nbu-push --dry-run | head`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # later flushes must not fail again
            os.close(devnull)
