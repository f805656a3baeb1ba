"""Flake benchmark: N consecutive full local runs with `pytest -n auto`; reports how many failed and which
tests failed in each. Issue 4's target: 20 runs, no flake.

    .venv/bin/python bench/flake.py [--runs 20] [-- pytest args]   # default: suites
    .venv/bin/python bench/flake.py --quick                         # 2 runs of a small module
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from pytest_runs import run_pytest

QUICK_ARGS = ["tests/infra/test_echo_upstream.py"]
LOG_DIR = Path(__file__).resolve().parent.parent / "reports" / "flake"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 runs of a small test module")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("pytest_args", nargs="*", help="pytest arguments (default: suites)")
    args = p.parse_args()
    targets = args.pytest_args or (QUICK_ARGS if args.quick else ["suites"])
    runs = 2 if args.quick else args.runs
    failures = 0
    culprits: collections.Counter[str] = collections.Counter()
    for i in range(1, runs + 1):
        run = run_pytest([*targets, "-n", "auto"])
        failures += run.exit_code != 0
        culprits.update(run.failed)
        print(f"run {i:2}/{runs}: exit {run.exit_code}  {run.wall_seconds:6.1f} s  {run.summary}", flush=True)
        if run.exit_code != 0:  # keep the whole output of a failed run, so the flake can be diagnosed
            log = LOG_DIR / f"flake-run-{i}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(run.output)
            print(f"          output: {log}", flush=True)
    print(f"failed runs: {failures} of {runs}")
    for test, count in culprits.most_common():
        print(f"  {count}x {test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
