"""Suite-wide autouse fixtures: the run-wide shared lock and ``@pytest.mark.needs`` capability skips."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures.timing import RunLock

from kongformance.targets.setup import RunState


@pytest.fixture(autouse=True)
def _kf_capabilities_and_lock(request: pytest.FixtureRequest, kf_state: RunState) -> Iterator[None]:
    caps = kf_state.stack.capabilities()
    for mark in request.node.iter_markers("needs"):
        missing = [c for c in mark.args if not caps.get(c, False)]
        if missing:
            pytest.skip(f"target {kf_state.stack.target} lacks {', '.join(missing)}")
    lock = RunLock(kf_state.lock_dir)
    if {"clock", "exclusive"} & set(request.fixturenames):
        # time moves or every route changes: run alone, and take the lock before any other fixture of the
        # test runs (a token fetched earlier could expire while waiting for it)
        with lock.exclusive():
            yield
        return
    with lock.shared():
        yield
