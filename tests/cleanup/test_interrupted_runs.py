"""Runs interrupted at random points leave nothing behind (issue 9 Deliver 3, target "Interrupt trials").

Each trial starts a suite run of the ``external`` target against a ``kongformance serve stack --hide-control``
process (a gateway and Kong Identity that, like real ones, have no ``/_emulator`` surface), waits until the
run reaches a point drawn from a seeded random generator, sends it SIGINT or SIGTERM, lets it end, and then
counts what is left of that run through the stack's Admin API and identity ``/v1`` API: gateway entities
tagged with the run, auth servers labelled with it, and its ledger on disk. Every count must be zero.

Points: during set-up (after the auth server and some of its claims exist), mid-run (after some tests
reported) and during teardown (once entities start disappearing). Launchers: plain pytest (one process or
xdist controller + workers) and ``kongformance run`` (which must forward the signal and wait). The signal
goes to the process or to its whole process group (a terminal's Ctrl-C). ``KF_INTERRUPT_TRIALS`` and
``KF_INTERRUPT_SEED`` run more or other trials (``bench/interrupt_trials.py`` prints the counts).
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.cleanup.served import Observer, Served, poll_until, served_stack, start_run

TRIALS = int(os.environ.get("KF_INTERRUPT_TRIALS", "20"))
SEED = int(os.environ.get("KF_INTERRUPT_SEED", "9"))
# (suite files, -k expression); `kongformance run` collects its whole suites directory and selects by -k
SELECTION = (["test_gateway_routing", "test_jwt"], "")
SELECTED_TESTS = 20  # at least this many tests run in SELECTION on the external target
SHORT = (["test_jwt"], "accepts_a_token or without_a_token")  # teardown trials: over soon
DEADLINE = 120.0


@dataclass(frozen=True)
class Trial:
    phase: str  # set-up | mid-run | teardown
    signum: int
    via_cli: bool
    workers: int
    to_group: bool
    point: int  # claims created (set-up) or tests reported (mid-run) before the signal

    def __str__(self) -> str:
        how = "kongformance-run" if self.via_cli else f"pytest-n{self.workers}"
        dest = "group" if self.to_group else "pid"
        return f"{self.phase}-{signal.Signals(self.signum).name}-{how}-{dest}-{self.point}"


def trials(count: int, seed: int) -> list[Trial]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        phase = ("set-up", "mid-run", "teardown")[i % 3]
        point = rng.randrange(0, 13) if phase == "set-up" else rng.randrange(1, SELECTED_TESTS)
        out.append(
            Trial(
                phase,
                rng.choice([signal.SIGINT, signal.SIGTERM]),
                via_cli=rng.random() < 0.3,
                workers=rng.choice([0, 0, 2]),
                to_group=rng.random() < 0.3,
                point=point,
            )
        )
    return out


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with served_stack() as stack:
        yield stack


@pytest.fixture(scope="module")
def observer(served: Served) -> Iterator[Observer]:
    obs = Observer(served)
    yield obs
    obs.close()


def _reach(trial: Trial, child: object, observer: Observer) -> str:
    """Wait until the run reaches the trial's point; returns its run id."""
    from tests.cleanup.served import Child

    assert isinstance(child, Child)
    poll_until(lambda: child.run_id() is not None, DEADLINE, "the run's ledger")
    run_id = child.run_id()
    assert run_id is not None
    if trial.phase == "set-up":

        def enough_claims() -> bool:
            servers = observer.auth_servers(run_id)
            return bool(servers) and observer.claims(str(servers[0]["id"])) >= trial.point

        poll_until(enough_claims, DEADLINE, f"{trial.point} claims of run {run_id}")
    elif trial.phase == "mid-run":
        poll_until(lambda: child.results() >= trial.point, DEADLINE, f"{trial.point} test results")
    else:
        tag = f"kf-run-{run_id}"
        seen = [0]

        def tearing_down() -> bool:
            n = observer.gateway_entities(tag, ("/services",))
            seen[0] = max(seen[0], n)
            return seen[0] > 0 and n < seen[0]

        poll_until(tearing_down, DEADLINE, f"teardown of run {run_id}")
    return run_id


@pytest.mark.parametrize("trial", trials(TRIALS, SEED), ids=str)
def test_an_interrupted_run_leaves_no_object_behind(
    trial: Trial, served: Served, observer: Observer, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    files, k = SHORT if trial.phase == "teardown" else SELECTION
    if trial.via_cli:
        expression = " or ".join(files) + (f") and ({k}" if k else "")
        args = ["-q", "-k", f"({expression})"]
    else:
        args = [f"suites/{f}.py" for f in files] + ["-q"] + (["-k", k] if k else [])
    with start_run(served.env(ledger), ledger, args, via_cli=trial.via_cli, workers=trial.workers) as child:
        run_id = _reach(trial, child, observer)
        if trial.to_group:
            os.killpg(child.proc.pid, trial.signum)
        else:
            child.proc.send_signal(trial.signum)
        child.wait(DEADLINE)
    output = child.output.decode("utf-8", "replace")[-2000:]
    assert "Traceback" not in output, output
    left = {
        "gateway entities": observer.gateway_entities(f"kf-run-{run_id}"),
        "auth servers": len(observer.auth_servers(run_id)),
        "ledger files": len(list(ledger.glob("*"))) if ledger.exists() else 0,
    }
    record = os.environ.get("KF_INTERRUPT_RECORD")  # bench/interrupt_trials.py sums these
    if record:
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps({"trial": str(trial), "phase": trial.phase, "left": left}) + "\n")
    assert left == {"gateway entities": 0, "auth servers": 0, "ledger files": 0}, output
