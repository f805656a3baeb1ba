"""Interrupt trials, shared by the targets' trial files (issue 9 Deliver 3, target "Interrupt trials").

A trial starts a suite run (:func:`tests.cleanup.served.start_run`), waits until the run reaches its point,
sends it SIGINT or SIGTERM (to the process, or to its whole group as a terminal's Ctrl-C does), lets it end,
and then the trial file counts what is left of the run through the target's public APIs and on disk.

Points: during set-up (the target's own sign that set-up is under way), mid-run (after some tests reported)
and during teardown (once the run's gateway services start disappearing).
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.cleanup.served import Child, Observer, poll_until

from kongformance import run_ledger

DEADLINE = 120.0
PHASES = ("set-up", "mid-run", "teardown")
SETUP_CLAIMS = 13  # claims the profile creates on its auth server: the set-up points on a served target


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


def each_phase_and_signal(seed: int, selected_tests: int, *, setup_points: int, workers: bool) -> list[Trial]:
    """Six trials: every phase with SIGINT and with SIGTERM, launchers alternating between plain pytest and
    ``kongformance run``; the points, xdist and the signal's destination drawn from ``seed``."""
    rng = random.Random(seed)
    out = []
    for i, (phase, signum) in enumerate((p, s) for s in (signal.SIGINT, signal.SIGTERM) for p in PHASES):
        point = rng.randrange(0, setup_points) if phase == "set-up" else rng.randrange(1, selected_tests)
        out.append(
            Trial(
                phase,
                signum,
                via_cli=i % 2 == 1,
                workers=rng.choice([0, 2]) if workers else 0,
                to_group=rng.random() < 0.3,
                point=point,
            )
        )
    return out


def run_args(trial: Trial, files: list[str], k: str) -> list[str]:
    """pytest arguments selecting ``files`` (suite module names) and ``-k k``; ``kongformance run`` collects
    its whole suites directory, so there the files become part of the -k expression."""
    if trial.via_cli:
        expression = " or ".join(files) + (f") and ({k}" if k else "")
        return ["-q", "-k", f"({expression})"]
    return [f"suites/{f}.py" for f in files] + ["-q"] + (["-k", k] if k else [])


def wait_for_ledger(child: Child) -> str:
    poll_until(lambda: child.run_id() is not None, DEADLINE, "the run's ledger")
    run_id = child.run_id()
    assert run_id is not None
    return run_id


def wait_for_point(
    trial: Trial,
    child: Child,
    setup_reached: Callable[[], bool],
    services: Callable[[], int],
) -> None:
    """Wait until the run reaches the trial's point: ``setup_reached()`` true (set-up), enough results
    (mid-run), or fewer of the run's services (``services()``) on the gateway than there were (teardown)."""
    if trial.phase == "set-up":
        poll_until(setup_reached, DEADLINE, f"set-up point {trial.point}")
    elif trial.phase == "mid-run":
        poll_until(lambda: child.results() >= trial.point, DEADLINE, f"{trial.point} test results")
    else:
        seen = [0]

        def tearing_down() -> bool:
            n = services()
            seen[0] = max(seen[0], n)
            return seen[0] > 0 and n < seen[0]

        poll_until(tearing_down, DEADLINE, "the run's teardown")


def run_services(observer: Observer, run_id: str) -> Callable[[], int]:
    """How many services tagged with the run the observed gateway holds."""
    return lambda: observer.gateway_entities(f"kf-run-{run_id}", ("/services",))


def ledger_intents(ledger: Path, run_id: str) -> list[dict[str, Any]]:
    """The intents the run's ledger holds so far (what it was about to create, and where)."""
    run = run_ledger.read(ledger / f"{run_id}.jsonl")
    return run.intents if run else []


def ledger_services(ledger: Path, run_id: str) -> Callable[[], int]:
    """How many services tagged with the run are on the gateway its ledger names (0 until it names one):
    for targets whose gateway the run starts on ports only it knows (local, docker)."""

    def count() -> int:
        where = [i["where"] for i in ledger_intents(ledger, run_id) if i.get("kind") == "gateway"]
        if not where:
            return 0
        params: dict[str, str | int] = {"tags": f"kf-run-{run_id}", "size": 1000}
        return len(httpx.get(where[0] + "/services", params=params, timeout=10).json()["data"])

    return count


def claims_reached(observer: Observer, run_id: str, point: int) -> Callable[[], bool]:
    """Set-up point on a served target: the run's auth server exists and has ``point`` claims."""

    def reached() -> bool:
        servers = observer.auth_servers(run_id)
        return bool(servers) and observer.claims(str(servers[0]["id"])) >= point

    return reached


def interrupt_and_wait(trial: Trial, child: Child) -> str:
    """Send the trial's signal, wait for the run to end as interrupted; the tail of its output (no traceback)."""
    if trial.to_group:
        os.killpg(child.proc.pid, trial.signum)
    else:
        child.proc.send_signal(trial.signum)
    status = child.wait(DEADLINE)
    output = child.output.decode("utf-8", "replace")[-2000:]
    assert "Traceback" not in output, output
    # 2: interrupted; 0: the signal came during the teardown, which holds it back. A test failure (1) or an
    # INTERNALERROR (3) means the interrupt was turned into something else (run_signals' hooks)
    assert status in (0, 2), f"exit {status}\n{output}"
    return output


def record(target: str, trial: Trial, left: dict[str, int]) -> None:
    """Append the trial's counts to ``KF_INTERRUPT_RECORD`` (``bench/interrupt_trials.py`` sums them)."""
    path = os.environ.get("KF_INTERRUPT_RECORD")
    if path:
        row = {"target": target, "trial": str(trial), "phase": trial.phase, "left": left}
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
