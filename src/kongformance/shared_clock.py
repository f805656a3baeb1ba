"""A :class:`Clock` whose state lives in shared memory, so several processes read one virtual time.

The owner process (the one that freezes and advances it) creates the state; other processes attach to the
same bytes and see every change at once. The behaviour is :class:`Clock`'s: only where the offset and the
frozen instant are stored differs.
"""

from __future__ import annotations

import math
import threading

from kongformance.clock import Clock

CLOCK_BYTES = 16
"""Bytes of shared memory a :class:`SharedClock` needs: two doubles (offset, frozen instant or NaN)."""


class SharedClock(Clock):
    """A :class:`Clock` over ``cells`` (a writable buffer of :data:`CLOCK_BYTES` bytes, e.g. in an mmap).

    ``owner=True`` resets the shared state to real time; ``owner=False`` attaches to it as it stands."""

    def __init__(self, cells: memoryview, *, owner: bool) -> None:
        self._cells = cells.cast("B")[:CLOCK_BYTES].cast("d")
        if owner:
            super().__init__()
        else:
            self._lock = threading.Lock()

    @property  # type: ignore[override]
    def _offset(self) -> float:
        return float(self._cells[0])

    @_offset.setter
    def _offset(self, value: float) -> None:
        self._cells[0] = value

    @property  # type: ignore[override]
    def _frozen_at(self) -> float | None:
        value = float(self._cells[1])
        return None if math.isnan(value) else value

    @_frozen_at.setter
    def _frozen_at(self, value: float | None) -> None:
        self._cells[1] = math.nan if value is None else value
