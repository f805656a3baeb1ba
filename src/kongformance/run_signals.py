"""Signals during a suite run: SIGTERM ends the session in order, and teardown is never cut short.

pytest turns SIGINT into ``KeyboardInterrupt`` and still runs ``pytest_sessionfinish`` (and so the run's
teardown); SIGTERM, how CI cancels a job, kills the process outright. :func:`terminate_as_interrupt` makes
SIGTERM behave like SIGINT in the process that calls it (the xdist controller and each worker, from
``pytest_configure``). :func:`deferred` holds both signals back while a teardown runs, so a second Ctrl-C or
a SIGTERM after a SIGINT cannot leave objects behind (teardown only runs when the run is ending anyway, so a
held signal is dropped; the block yields the list of signals it held).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def terminate_as_interrupt() -> bool:
    """SIGTERM raises ``KeyboardInterrupt`` (where SIGTERM still has its default action); True if installed."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, _interrupt)
    return True


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM back for the duration of the block (main thread only; a no-op elsewhere)."""
    held: list[int] = []
    if not _main_thread():
        yield held
        return
    previous: dict[signal.Signals, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, hold)
    try:
        yield held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
