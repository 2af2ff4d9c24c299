"""SIGTERM and SIGINT: stop fetching, still publish the failure status, exit 128+signal."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from .deadline import Deadline
from .errors import Interrupted

SIGNALS = (signal.SIGTERM, signal.SIGINT)



class SignalGuard:
    """Cancel the deadline on a signal; while `raising`, also raise Interrupted in the main
    thread so that waiting stops at once. Publishing runs with `raising` off: a signal then
    only shortens the run, it never tears a write in half."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.signum: int | None = None
        self.raising = True
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum
        self.deadline.cancel(f"interrupted by {signal.Signals(signum).name}", interrupted=True)
        if self.raising:
            self.raising = False
            raise Interrupted(signum)

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
