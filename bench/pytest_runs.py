"""Run pytest as a child process and measure it: wall time, peak resident memory of the whole tree, result."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from proctree import PeakRss

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PytestRun:
    args: list[str]
    exit_code: int
    wall_seconds: float
    peak_rss: int
    summary: str
    failed: list[str]
    output: str = ""


def run_pytest(args: list[str]) -> PytestRun:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with PeakRss(proc.pid) as peak:
        out, _ = proc.communicate()
    wall = time.perf_counter() - started
    lines = [line for line in out.splitlines() if line.strip()]
    summary = next(
        (line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed|error)", line)), ""
    )
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return PytestRun(
        cmd[3:], proc.returncode, wall, peak.peak, summary or (lines[-1] if lines else ""), failed, out
    )
