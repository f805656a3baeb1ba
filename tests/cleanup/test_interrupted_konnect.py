"""Konnect runs interrupted at seeded points leave nothing behind (issue 9 Deliver 3, target "Interrupt
trials ... local + konnect + docker").

Each trial starts a run of the ``konnect`` target against ``kongformance serve konnect`` (its control surface
hidden, as Konnect's) and an echo upstream, interrupts it during set-up (once its auth server has some of its
claims), mid-run or teardown with SIGINT or SIGTERM, through plain pytest or ``kongformance run``, and counts
what is left of the run through Konnect's public APIs only: auth servers labelled ``kf-run=<id>`` on
``/v1/auth-servers``, the control plane's core entities (services, routes, plugins, consumers) tagged
``kf-run-<id>``, and its ledger on disk. Every count must be zero. ``KF_INTERRUPT_SEED`` draws other points.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cleanup.served import Observer, Served, served_konnect, start_run
from tests.cleanup.trials import (
    SETUP_CLAIMS,
    Trial,
    claims_reached,
    each_phase_and_signal,
    interrupt_and_wait,
    record,
    run_args,
    run_services,
    wait_for_ledger,
    wait_for_point,
)

SEED = int(os.environ.get("KF_INTERRUPT_SEED", "9"))
SELECTION = (["test_gateway_routing", "test_jwt"], "")
SELECTED_TESTS = 19  # at least this many tests run in SELECTION on the konnect target
SHORT = (["test_jwt"], "accepts_a_token or without_a_token")  # teardown trials: over soon
TRIALS = each_phase_and_signal(SEED, SELECTED_TESTS, setup_points=SETUP_CLAIMS, workers=True)


@pytest.fixture(scope="module")
def konnect() -> Iterator[Served]:
    with served_konnect() as served:
        yield served


@pytest.fixture(scope="module")
def observer(konnect: Served) -> Iterator[Observer]:
    with Observer(konnect) as obs:
        yield obs


@pytest.mark.parametrize("trial", TRIALS, ids=str)
def test_an_interrupted_konnect_run_leaves_nothing_on_konnect(
    trial: Trial, konnect: Served, observer: Observer, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    args = run_args(trial, *(SHORT if trial.phase == "teardown" else SELECTION))
    with start_run(
        konnect.env(ledger), ledger, args, via_cli=trial.via_cli, workers=trial.workers, target="konnect"
    ) as child:
        run_id = wait_for_ledger(child)
        setup = claims_reached(observer, run_id, trial.point)
        wait_for_point(trial, child, setup, run_services(observer, run_id))
        output = interrupt_and_wait(trial, child)
    left = {
        "core entities": observer.gateway_entities(f"kf-run-{run_id}"),
        "auth servers": len(observer.auth_servers(run_id)),
        "ledger files": len(list(ledger.glob("*"))) if ledger.exists() else 0,
    }
    record("konnect", trial, left)
    assert left == {"core entities": 0, "auth servers": 0, "ledger files": 0}, output
