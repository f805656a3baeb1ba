"""Suite benchmark: wall time of the full local run with `pytest -n auto` against a serial run, and the
peak resident memory of all processes (controller, xdist workers, in-process stacks).

Numbers and ratios only. Issue 4's targets: -n auto <= 30 s wall on 2 cores (stack start included);
peak resident memory under 1 GB.

    .venv/bin/python bench/suite.py              # the conformance suite (suites/), parallel then serial
    .venv/bin/python bench/suite.py --quick      # a small test module, to prove the harness works
    .venv/bin/python bench/suite.py -- suites/test_x.py -k bearer   # any pytest arguments after --
"""

from __future__ import annotations

import argparse
import sys

from proctree import mib
from pytest_runs import PytestRun, run_pytest

QUICK_ARGS = ["tests/infra/test_echo_upstream.py"]


def show(label: str, run: PytestRun) -> None:
    print(
        f"{label:22} {run.wall_seconds:7.1f} s wall  peak RSS {mib(run.peak_rss):>11}  exit {run.exit_code}  {run.summary}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="run a small test module instead of the suites")
    p.add_argument("--no-serial", action="store_true", help="skip the serial run")
    p.add_argument("pytest_args", nargs="*", help="pytest arguments (default: suites)")
    args = p.parse_args()
    targets = args.pytest_args or (QUICK_ARGS if args.quick else ["suites"])
    parallel = run_pytest([*targets, "-n", "auto"])
    show("pytest -n auto", parallel)
    if not args.no_serial:
        serial = run_pytest([*targets, "-p", "no:xdist"])
        show("pytest (serial)", serial)
        if parallel.wall_seconds:
            print(f"serial / parallel wall time: {serial.wall_seconds / parallel.wall_seconds:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
