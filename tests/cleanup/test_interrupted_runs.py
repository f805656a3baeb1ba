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
``KF_INTERRUPT_SEED`` run more or other trials (``bench/interrupt_trials.py`` prints the counts). The same
trials on the konnect and docker targets: ``test_interrupted_konnect.py``, ``test_interrupted_docker.py``.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cleanup.served import Observer, Served, served_stack, start_run
from tests.cleanup.trials import (
    SETUP_CLAIMS,
    Trial,
    claims_reached,
    interrupt_and_wait,
    record,
    run_args,
    run_services,
    wait_for_ledger,
    wait_for_point,
)

TRIALS = int(os.environ.get("KF_INTERRUPT_TRIALS", "20"))
SEED = int(os.environ.get("KF_INTERRUPT_SEED", "9"))
# (suite files, -k expression); `kongformance run` collects its whole suites directory and selects by -k
SELECTION = (["test_gateway_routing", "test_jwt"], "")
SELECTED_TESTS = 20  # at least this many tests run in SELECTION on the external target
SHORT = (["test_jwt"], "accepts_a_token or without_a_token")  # teardown trials: over soon


def trials(count: int, seed: int) -> list[Trial]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        phase = ("set-up", "mid-run", "teardown")[i % 3]
        point = rng.randrange(0, SETUP_CLAIMS) if phase == "set-up" else rng.randrange(1, SELECTED_TESTS)
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
    with Observer(served) as obs:
        yield obs


@pytest.mark.parametrize("trial", trials(TRIALS, SEED), ids=str)
def test_an_interrupted_run_leaves_no_object_behind(
    trial: Trial, served: Served, observer: Observer, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    args = run_args(trial, *(SHORT if trial.phase == "teardown" else SELECTION))
    with start_run(served.env(ledger), ledger, args, via_cli=trial.via_cli, workers=trial.workers) as child:
        run_id = wait_for_ledger(child)
        setup = claims_reached(observer, run_id, trial.point)
        wait_for_point(trial, child, setup, run_services(observer, run_id))
        output = interrupt_and_wait(trial, child)
    left = {
        "gateway entities": observer.gateway_entities(f"kf-run-{run_id}"),
        "auth servers": len(observer.auth_servers(run_id)),
        "ledger files": len(list(ledger.glob("*"))) if ledger.exists() else 0,
    }
    record("external", trial, left)
    assert left == {"gateway entities": 0, "auth servers": 0, "ledger files": 0}, output
