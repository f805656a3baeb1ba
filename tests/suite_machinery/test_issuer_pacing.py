"""The run's issuer-bound traffic is paced under Kong Identity's rate per auth server (KF_ISSUER_RATE).

A parallel konnect run went over 100 requests/s per auth server; openid-connect's ``introspection`` auth then
refused good tokens with a bare 401 that no retry can tell from a real refusal. No test here waits: the
pacer's clock and sleep are fakes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kongformance.clients import pacing
from kongformance.clients.pacing import Pacer
from kongformance.clients.polite import CallCounter, PoliteTransport, RetryPolicy, relays_rate_limit


class FakeTime:
    """A clock that only moves when the pacer sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_leave_no_faster_than_the_rate_evenly_spaced() -> None:
    time = FakeTime()
    pacer = Pacer(40.0, clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(5):
        pacer.wait()
        sent.append(time.now)
    assert sent == pytest.approx([1000.0, 1000.025, 1000.05, 1000.075, 1000.1])
    time.now += 1.0  # idle for a while: the next request goes at once, no burst is saved up beyond its slot
    assert pacer.wait() == 0.0
    assert pacer.wait() == pytest.approx(0.025)


def test_a_rate_of_zero_never_waits() -> None:
    time = FakeTime()
    pacer = Pacer(0.0, clock=time.clock, sleep=time.sleep)
    assert [pacer.wait() for _ in range(100)] == [0.0] * 100
    assert time.slept == []


@pytest.mark.parametrize(
    ("settings", "env", "target", "workers", "rate"),
    [
        (
            {},
            None,
            "konnect",
            1,
            80.0,
        ),  # Kong Identity: 100/s per auth server, with room for the gateway's own
        ({}, None, "konnect", 2, 40.0),  # shared evenly by the xdist workers
        ({}, None, "local", 2, 0.0),  # our emulator: no limit
        ({}, None, "external", 1, 0.0),  # the user's issuer: the user says (KF_ISSUER_RATE)
        ({}, "50", "external", 2, 25.0),
        ({"KF_ISSUER_RATE": "30"}, "50", "konnect", 3, 10.0),  # --kf-set before the environment
        ({"KF_ISSUER_RATE": "0"}, None, "konnect", 2, 0.0),  # 0 turns pacing off
    ],
)
def test_the_rate_comes_from_settings_or_the_targets_default(
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, str],
    env: str | None,
    target: str,
    workers: int,
    rate: float,
) -> None:
    if env is None:
        monkeypatch.delenv("KF_ISSUER_RATE", raising=False)
    else:
        monkeypatch.setenv("KF_ISSUER_RATE", env)
    assert Pacer.from_settings(settings, target=target, workers=workers).rate == pytest.approx(rate)


@pytest.mark.parametrize("raw", ["abc", "-1", "inf", "nan", "1e999"])
def test_a_bad_rate_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^KF_ISSUER_RATE: must be a number of requests per second >= 0"):
        Pacer.from_settings({"KF_ISSUER_RATE": raw}, target="konnect")


def test_xdist_workers_reads_the_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    assert pacing.xdist_workers() == 4
    for raw in ("", "0", "x"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", raw)
        assert pacing.xdist_workers() == 1


@pytest.mark.parametrize("paced", [True, False])
def test_a_paced_transport_waits_for_a_slot_before_every_attempt(
    monkeypatch: pytest.MonkeyPatch, paced: bool
) -> None:
    """Retries too take a slot: a relayed 429 asked again is one more request to the auth server."""
    time = FakeTime()
    pacer = Pacer(10.0, clock=time.clock, sleep=time.sleep)  # only the pacer moves the clock
    monkeypatch.setattr(pacing, "_issuer_pacer", pacer)
    answers = [httpx.Response(401, json={"status": 429}), httpx.Response(200, json={}), httpx.Response(200)]
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.now)
        return answers[len(sent) - 1]

    transport = PoliteTransport(
        "proxy",
        inner=httpx.MockTransport(handler),
        policy=RetryPolicy(base_delay=0.0),  # the backoff adds nothing: what is left is the pacing
        sleep=lambda seconds: None,
        counter=CallCounter(),
        limited=relays_rate_limit,
        paced=paced,
    )
    with httpx.Client(transport=transport) as http:
        assert http.get("http://gateway.invalid/a").status_code == 200
        assert http.get("http://gateway.invalid/b").status_code == 200
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    if paced:
        assert gaps == pytest.approx([0.1, 0.1]) and len(time.slept) == 2
    else:
        assert gaps == [0.0, 0.0] and time.slept == []


def test_a_bad_rate_ends_the_run_before_any_test_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--kf-target", "local"]
        + ["--kf-reports", str(tmp_path / "out"), "--kf-set", "KF_ISSUER_RATE=fast", "test_one.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert "KF_ISSUER_RATE: must be a number of requests per second >= 0 (0: no pacing), got 'fast'" in output
    assert "Traceback" not in output
