"""Docker target and version matrix benchmark (issue 13): wall times of whole `kongformance run` commands.

Numbers and ratios only. Issue 13's targets: the docker target's full run (images present) <= 60 s wall
with -n auto; DB mode <= 90 s; a version matrix of 3 local versions <= 3x one local run's wall time.
Needs DOCKER_HOST (images/dockerd.sh start) and `make images` for the docker runs.

    .venv/bin/python bench/docker_target.py                # docker DB-less, docker DB mode, local 1 vs 3 versions
    .venv/bin/python bench/docker_target.py --only matrix  # just the local version matrix
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KF = [sys.executable, "-m", "kongformance.cli", "run"]
TARGETS = {"docker-dbless": 60.0, "docker-db": 90.0}


def timed(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, exit status and the last pytest summary line of one `kongformance run`."""
    with tempfile.TemporaryDirectory(prefix="kf-bench-") as reports:
        start = time.monotonic()
        done = subprocess.run([*KF, *args, "--reports", reports], cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - start
    lines = [ln for ln in done.stdout.splitlines() if " passed" in ln or " failed" in ln]
    return wall, done.returncode, (lines[-1].strip("= ") if lines else done.stderr.strip()[-200:])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=("docker", "matrix"), default=None)
    p.add_argument("-n", "--workers", default="auto")
    args = p.parse_args()
    if args.only in (None, "docker"):
        for name, extra in (("docker-dbless", ["--db-less"]), ("docker-db", [])):
            wall, code, summary = timed(["--target", "docker", "-n", args.workers, *extra])
            goal = TARGETS[name]
            print(
                f"{name:16} {wall:7.1f} s wall  target <= {goal:.0f} s  ratio {wall / goal:.2f}  exit {code}  {summary}"
            )
    if args.only in (None, "matrix"):
        one, code1, summary1 = timed(["--target", "local", "-n", args.workers])
        print(f"{'local 3.15':16} {one:7.1f} s wall  exit {code1}  {summary1}")
        three, code3, summary3 = timed(
            ["--target", "local", "-n", args.workers, "--kong-version", "3.9,3.14,3.15"]
        )
        print(f"{'local matrix x3':16} {three:7.1f} s wall  exit {code3}  {summary3}")
        print(f"matrix / one run: {three / one:.2f}x (target <= 3.00x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
