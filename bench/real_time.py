"""Real-time expiry benchmark: how long the run's one shared wait costs on a target without a virtual clock.

Starts the local stack with its control surface hidden (every /_emulator path answers 404, as on real Kong,
Konnect and httpbin), points the ``external`` target at it and runs the suites with pytest-xdist. Prints the
wall time, the pytest summary, the number of expiry checks that ran, and the ratio to what waiting out the
token lifetime once per check would cost (checks x (TOKEN_LIFETIME + 1) s: the floor of serialized waits).

    .venv/bin/python bench/real_time.py                # only the expiry checks (-m expiry), -n auto
    .venv/bin/python bench/real_time.py --full         # the whole suite, -n auto
    .venv/bin/python bench/real_time.py -n 2 -- -k bearer   # any pytest arguments after --
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from kongformance.profile import TOKEN_LIFETIME
from kongformance.stack import start_local_stack
from pytest_runs import run_pytest


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="run the whole suite, not only the expiry checks")
    p.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers (default auto)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = p.parse_args()
    stack = start_local_stack(hide_control=True)
    try:
        urls = stack.urls()
        os.environ.update(
            KF_ADMIN_URL=urls["admin"],
            KF_PROXY_URL=urls["proxy"],
            KF_PROXY_SSL_URL=urls["proxy_ssl"],
            KF_IDENTITY_URL=urls["identity"],
            KF_UPSTREAM_URL=urls["upstream"],
        )
        selection = [] if args.full else ["-m", "expiry"]
        run = run_pytest(
            ["suites", "--kf-target", "external", "--kf-no-reports", "-n", args.workers, "-rs"]
            + selection
            + list(args.pytest_args)
        )
    finally:
        stack.stop()
    print(f"external target, control hidden, -n {args.workers}: {run.summary} (exit {run.exit_code})")
    print(f"wall time: {run.wall_seconds:.1f} s (stack start excluded, pytest start and run set-up included)")
    passed = re.search(r"(\d+) passed", run.summary)
    if not args.full and passed:
        checks = int(passed.group(1))
        serial = checks * (TOKEN_LIFETIME + 1)
        print(
            f"expiry checks that ran: {checks}; waiting out the lifetime once each would take >= {serial} s"
        )
        if run.wall_seconds:
            print(f"serialized waits / measured wall: {serial / run.wall_seconds:.2f}x")
    return 0 if run.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
