"""Time control: the run-wide lock and virtual-clock advancing (issue 4, Targets: no real-time sleep)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.timing import (
    POLL_MARGIN,
    ClockControl,
    ExpiryEnv,
    ExpiryPlan,
    Prepared,
    RunLock,
    expiry_check,
    wait_in_real_time,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.serving import RunningServer, start_in_thread
from kongformance.targets import Stack


def _clock_app(clock: Clock, *, action_in_path: bool) -> Starlette:
    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"now": clock.now()})

    async def act(request: Request) -> JSONResponse:
        body = await request.json()
        action = request.path_params.get("action") or body.get("action")
        if action != "advance":
            return JSONResponse({"detail": "bad action"}, status_code=400)
        clock.advance(float(body["seconds"]))
        return JSONResponse({"now": clock.now()})

    routes = [Route("/_emulator/clock", state, methods=["GET"])]
    if action_in_path:
        routes.append(Route("/_emulator/clock/{action}", act, methods=["POST"]))
    else:
        routes.append(Route("/_emulator/clock", act, methods=["POST"]))
    return Starlette(routes=routes)


def _stack(identity: str, admin: str) -> Stack:
    return Stack("fake", identity, "t", admin, "http://p", "https://p", "http://u", virtual_clock=True)


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    started: list[RunningServer] = []
    yield started
    for s in started:
        s.stop()


def test_advance_moves_a_shared_clock_once(servers: list[RunningServer]) -> None:
    """One stack, one clock (issue 3 Deliver 5): advancing through both control APIs must not double it."""
    clock = Clock()
    clock.freeze(1000.0)
    servers += [
        start_in_thread(_clock_app(clock, action_in_path=True)),
        start_in_thread(_clock_app(clock, action_in_path=False)),
    ]
    control = ClockControl(_stack(servers[0].url, servers[1].url))
    control.advance(61)
    control.close()
    assert clock.now() == 1061.0


def test_advance_moves_separate_clocks_to_the_same_time(servers: list[RunningServer]) -> None:
    a, b = Clock(), Clock()
    a.freeze(1000.0)
    b.freeze(1000.0)
    servers += [
        start_in_thread(_clock_app(a, action_in_path=True)),
        start_in_thread(_clock_app(b, action_in_path=False)),
    ]
    control = ClockControl(_stack(servers[0].url, servers[1].url))
    control.advance(30)
    control.close()
    assert a.now() == b.now() == 1030.0


def test_exclusive_holder_excludes_shared_holders(tmp_path: Path) -> None:
    lock = RunLock(str(tmp_path))
    entered = threading.Event()
    with lock.exclusive():

        def hold_shared() -> None:
            lock.shared().__enter__()
            entered.set()

        t = threading.Thread(target=hold_shared, daemon=True)
        t.start()
        assert not entered.wait(0.2)
    assert entered.wait(5)


def test_shared_holders_do_not_exclude_each_other(tmp_path: Path) -> None:
    lock = RunLock(str(tmp_path))
    with lock.shared(), lock.shared():
        pass


def _real_stack() -> Stack:
    return Stack(
        "fake", "http://i", "t", "http://a", "http://p", "https://p", "http://u", virtual_clock=False
    )


def test_real_targets_never_sleep_per_test() -> None:
    """Issue 9 Deliver 6: without virtual clocks, ``advance`` skips naming the capability instead of sleeping."""
    with pytest.raises(pytest.skip.Exception, match="lacks virtual_clock"):
        ClockControl(_real_stack()).advance(61)


def test_waiting_for_an_instant_already_past_returns_at_once() -> None:
    started = time.monotonic()
    wait_in_real_time(time.time() - POLL_MARGIN - 1)
    assert time.monotonic() - started < 0.5


class _Item:
    """Enough of a pytest item for the plan: a nodeid, its markers and parameters."""

    def __init__(self, nodeid: str, marks: list[pytest.Mark], params: dict[str, object]) -> None:
        self.nodeid = nodeid
        self._marks = marks
        self.callspec = type("CallSpec", (), {"params": params})()

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return next((m for m in self._marks if m.name == name), None)

    def iter_markers(self, name: str) -> Iterator[pytest.Mark]:
        return (m for m in self._marks if m.name == name)


def test_the_plan_prepares_every_expiry_check_together_and_keeps_failures_for_their_tests() -> None:
    calls: list[str] = []

    def prepare(env: ExpiryEnv, route: str) -> Prepared:
        calls.append(route)
        if route == "broken":
            raise AssertionError("the route refused a fresh token")
        return Prepared(route, 100.0 + len(calls))

    marks = [expiry_check(prepare).mark]
    items = [
        _Item("t[a]", marks, {"route": "a", "other": 1}),
        _Item("t[broken]", marks, {"route": "broken"}),
        _Item("t[needs]", [*marks, pytest.mark.needs("virtual_clock").mark], {"route": "c"}),
        _Item("plain", [], {}),
    ]
    plan = ExpiryPlan()
    env = ExpiryEnv(None, ClockControl(_real_stack()))  # type: ignore[arg-type]
    plan.prepare_all(items, env, {"virtual_clock": False})  # type: ignore[arg-type]
    assert calls == ["a", "broken"]  # one pass at the start; checks the target cannot run are not prepared
    assert plan.due_of("t[a]") == 101.0 and plan.longest_due == 101.0
    assert plan.due_of("t[broken]") is None and isinstance(plan.prepared["t[broken]"], AssertionError)
    assert "t[needs]" not in plan.prepared and "plain" not in plan.prepared
