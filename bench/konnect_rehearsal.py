"""Konnect rehearsal benchmark: wall time of `kongformance run --target konnect -n auto` against the Konnect
emulator and an echo upstream, both with their control surfaces hidden (as Konnect and httpbin).

Numbers and ratios only. Issue 9's target: <= 3 min wall with -n auto on 2 cores, 0 failures, every skip
with its reason. Also prints the Konnect API calls the run made and the slowest tests (what the wall time
is spent on: on a target without a virtual clock, expiry checks wait in real time).

    .venv/bin/python bench/konnect_rehearsal.py                 # the whole suite
    .venv/bin/python bench/konnect_rehearsal.py -n 2 -- -k bearer   # workers and pytest arguments
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from kongformance.konnect.rehearsal import Outcome, rehearse

TARGET_SECONDS = 180.0


def slowest(junit: Path, count: int) -> list[tuple[float, str]]:
    root = ET.parse(junit).getroot()
    times = [
        (float(c.get("time", 0)), f"{c.get('classname')}::{c.get('name')}") for c in root.iter("testcase")
    ]
    return sorted(times, reverse=True)[:count]


def show(outcome: Outcome, reports: Path, top: int) -> None:
    print(f"konnect rehearsal   {outcome.wall_seconds:8.1f} s wall  exit {outcome.returncode}")
    print(f"target (3 min)      {outcome.wall_seconds / TARGET_SECONDS:8.2f}x of {TARGET_SECONDS:.0f} s")
    print(
        f"tests               {outcome.tests:8d}  passed {outcome.passed}  failed {len(outcome.failures)}"
        f"  skipped {len(outcome.skips)}  (without a reason: {sum(1 for r in outcome.skips.values() if not r)})"
    )
    print(f"Konnect API calls   {outcome.api_requests if outcome.api_requests is not None else 'n/a':>8}")
    print(f"issuer 429s         {outcome.issuer_429s if outcome.issuer_429s is not None else 'n/a':>8}")
    junit = reports / "junit.xml"
    if junit.exists() and top:
        spent = slowest(junit, top)
        print(f"slowest {top} tests (sum {sum(t for t, _ in spent):.1f} s of test time):")
        for seconds, name in spent:
            print(f"  {seconds:7.1f} s  {name}")
    for name in outcome.failures:
        print(f"FAILED {name}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", dest="workers", default="auto", help="pytest-xdist workers (default auto)")
    p.add_argument(
        "--api-rate", type=float, default=0.0, help="emulator's API calls/s before 429 (default none)"
    )
    p.add_argument("--top", type=int, default=10, help="how many of the slowest tests to list")
    p.add_argument("--reports", default=None, help="keep the run's reports here (default: a temporary dir)")
    p.add_argument("pytest_args", nargs="*", help="pytest arguments after --")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="kf-konnect-bench-") as tmp:
        reports = Path(args.reports or tmp)
        outcome = rehearse(
            reports, workers=args.workers, pytest_args=args.pytest_args, api_rate=args.api_rate
        )
        show(outcome, reports, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
