"""The virtual clock shared by the emulators.

Every emulator reads time through a :class:`Clock`, never through ``time.time()``. By default the clock
follows real time; a test may freeze it, move it forward, or both, so expiry can be checked without
sleeping. One stack (issuer, gateway, upstream in one process) shares one clock object.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ClockState:
    """A snapshot of a clock, as the control API reports it."""

    now: float
    frozen: bool
    offset: float


class Clock:
    """Real time plus an offset, optionally frozen at a fixed instant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Current virtual time, seconds since the epoch."""
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return time.time() + self._offset

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock at ``at`` (default: the current virtual time)."""
        with self._lock:
            self._frozen_at = self.now() if at is None else float(at)

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` (frozen or not). Negative values are refused."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def resume(self) -> None:
        """Let a frozen clock run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def reset(self) -> None:
        """Back to real time: no offset, not frozen."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None

    def state(self) -> ClockState:
        return ClockState(now=self.now(), frozen=self._frozen_at is not None, offset=self._offset)
