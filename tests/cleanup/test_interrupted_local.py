"""Local runs interrupted at seeded points leave nothing behind (issue 9 Deliver 3, target "Interrupt trials
... local + konnect + docker").

The ``local`` target serves its stack from the run's own process, so what could outlive an interrupted run
is its ledger and the processes of its group (pytest, xdist workers, ``kongformance run``). Each trial
interrupts a run during set-up (once its ledger names that many of the auth server and the gateway entities
it is about to create), mid-run or teardown (once its services start disappearing from the gateway the ledger
names) with SIGINT or SIGTERM, and counts both: zero.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.cleanup.served import start_run
from tests.cleanup.trials import (
    Trial,
    each_phase_and_signal,
    interrupt_and_wait,
    ledger_intents,
    ledger_services,
    record,
    run_args,
    wait_for_ledger,
    wait_for_point,
)

SEED = int(os.environ.get("KF_INTERRUPT_SEED", "9"))
SELECTION = (["test_gateway_routing", "test_jwt"], "")
SELECTED_TESTS = 20  # at least this many tests run in SELECTION on the local target
SHORT = (["test_jwt"], "accepts_a_token or without_a_token")  # teardown trials: over soon
SET_UP = ("auth_server", "gateway")  # the intents a run records during set-up, in this order
# set-up/SIGTERM/kongformance run, mid-run/SIGINT/kongformance run, teardown/SIGINT/pytest
TRIALS = [
    each_phase_and_signal(SEED, SELECTED_TESTS, setup_points=len(SET_UP), workers=True)[i] for i in (3, 1, 2)
]


def _group_alive(pgid: int) -> int:
    """1 when a process of the run's process group is still there (signal 0 reaches it), else 0."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return 0
    return 1


@pytest.mark.parametrize("trial", TRIALS, ids=str)
def test_an_interrupted_local_run_leaves_no_process_or_ledger(trial: Trial, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KF_", "PYTEST_", "KONNECT_"))}
    env["KF_LEDGER_DIR"] = str(ledger)
    args = run_args(trial, *(SHORT if trial.phase == "teardown" else SELECTION))
    with start_run(env, ledger, args, via_cli=trial.via_cli, workers=trial.workers, target="local") as child:
        run_id = wait_for_ledger(child)

        def set_up() -> bool:
            kinds = {i.get("kind") for i in ledger_intents(ledger, run_id)}
            return sum(kind in kinds for kind in SET_UP) > trial.point

        wait_for_point(trial, child, set_up, ledger_services(ledger, run_id))
        output = interrupt_and_wait(trial, child)
        left = {
            "processes": _group_alive(child.proc.pid),
            "ledger files": len(list(ledger.glob("*"))) if ledger.exists() else 0,
        }
    record("local", trial, left)
    assert left == {"processes": 0, "ledger files": 0}, output
