"""`--dry-run`: the exposition on stdout, logs stay on stderr."""

from __future__ import annotations

import os
import sys

from . import Payload


class StdoutSink:
    name = "stdout"

    def publish(self, payload: Payload, complete: bool) -> None:
        try:
            for chunk in payload():
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `nbu-push --dry-run | head`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # later flushes must not fail again
            os.close(devnull)
