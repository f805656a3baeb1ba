"""The nightly Konnect run, rehearsed: ``kongformance serve konnect`` and an echo upstream (both with their
control surfaces hidden, as Konnect and httpbin), then ``kongformance run --target konnect`` against them.

Used by ``tests/konnect/test_rehearsal.py`` (0 failures, every skip with its reason) and by
``bench/konnect_rehearsal.py`` (wall time). Everything runs in child processes, as a user's CI would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TOKEN = "kpat_kongformance_rehearsal"
CLI = [sys.executable, "-m", "kongformance.cli"]
START_DEADLINE = 60.0
RUN_TIMEOUT = 2400.0  # a hung run fails the rehearsal instead of hanging the test command


@dataclass
class Outcome:
    """What one rehearsal run produced: exit code, wall time, JUnit counts and every skip's reason."""

    returncode: int
    wall_seconds: float
    tests: int = 0
    failures: list[str] = field(default_factory=list)
    skips: dict[str, str] = field(default_factory=dict)  # test id -> reason
    api_requests: int | None = None  # Konnect API calls the emulator answered
    issuer_429s: int | None = (
        None  # issuer requests (the suite's and the gateway's) it refused for their rate
    )
    output: str = ""

    @property
    def passed(self) -> int:
        return self.tests - len(self.failures) - len(self.skips)


def _start(args: Sequence[str], until: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a CLI child and read its stdout up to the line starting with ``until``."""
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_DEADLINE
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(until):
            return proc, lines
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"{' '.join(args)} did not start: " + " | ".join(lines[-5:]))


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


@contextmanager
def emulated_konnect(*, api_rate: float = 0.0) -> Iterator[dict[str, str]]:
    """Konnect emulator + echo upstream on free ports; yields the ``KONNECT_*`` settings that reach them.

    ``api_rate`` > 0 makes the emulator answer 429 + Retry-After over that many API calls per second.

    On exit the settings dict gains ``api_requests`` (the emulator's count of API calls) and ``issuer_429s``
    (issuer requests it refused over the rate per auth server), when it said.
    """
    konnect, lines = _start(["serve", "konnect", "--random-ports", "--api-rate", str(api_rate)], "serving")
    try:
        upstream, up_lines = _start(["serve", "upstream", "--port", "0", "--hide-control"], "echo upstream")
    except BaseException:
        _stop(konnect)
        raise
    urls = dict(line.split(None, 1) for line in lines if " " in line and not line.startswith("serving"))
    settings = {
        "KONNECT_TOKEN": TOKEN,
        "KONNECT_API_URL": urls["api"],
        "KONNECT_CONTROL_PLANE_ID": urls["control_plane_id"],
        "KONNECT_PROXY_URL": urls["proxy"],
        "KONNECT_PROXY_SSL_URL": urls["proxy_ssl"],
        "KONNECT_UPSTREAM_URL": up_lines[-1].split()[-1],
    }
    try:
        yield settings
    finally:
        _stop(upstream)
        tail = _stop(konnect)
        for line in tail.splitlines():
            if line.startswith("api requests"):
                settings["api_requests"] = line.split()[-1]
            elif line.startswith("issuer 429s"):
                settings["issuer_429s"] = line.split()[-1]


def junit_outcome(path: Path, outcome: Outcome) -> None:
    """Fill ``outcome`` from a JUnit XML report (failures and errors count as failures)."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        outcome.tests += 1
        test_id = f"{case.get('classname')}::{case.get('name')}"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome.failures.append(test_id)
                break
            if child.tag == "skipped":
                outcome.skips[test_id] = child.get("message", "") or (child.text or "")
                break


def rehearse(
    reports: Path,
    *,
    workers: str = "auto",
    pytest_args: Sequence[str] = (),
    timeout: float = RUN_TIMEOUT,
    api_rate: float = 0.0,
) -> Outcome:
    """Run the konnect target against the emulated Konnect; JUnit and the rest go to ``reports``.

    A run still going after ``timeout`` seconds is stopped and reported with return code -1."""
    with emulated_konnect(api_rate=api_rate) as settings:
        # the run sees only these KONNECT_* settings, and nothing of a pytest it may be started from
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KONNECT_"))}
        env = {**inherited, **settings}
        command = [*CLI, "run", "--target", "konnect", "-n", workers, "--reports", str(reports)]
        if pytest_args:
            command += ["--", *pytest_args]
        started = time.monotonic()
        run = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = run.communicate(timeout=timeout)
            outcome = Outcome(run.returncode, time.monotonic() - started, output=out)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)  # the run and its pytest workers: nothing outlives it
            out, _ = run.communicate()
            outcome = Outcome(-1, time.monotonic() - started, output=f"{out}\nstopped after {timeout:.0f} s")
    if "api_requests" in settings:
        outcome.api_requests = int(settings["api_requests"])
    if "issuer_429s" in settings:
        outcome.issuer_429s = int(settings["issuer_429s"])
    junit = reports / "junit.xml"
    if junit.exists():
        junit_outcome(junit, outcome)
    return outcome
