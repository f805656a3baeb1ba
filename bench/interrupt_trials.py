"""Interrupt trials: runs interrupted at seeded random points (set-up, mid-run, teardown) with SIGINT/SIGTERM,
and what each left behind (issue 9 target: >= 20 trials, 0 leftovers). Prints counts, not pass/fail timings.

    .venv/bin/python bench/interrupt_trials.py [--trials 20] [--seed 9] [-n 2]

Runs tests/cleanup/test_interrupted_runs.py with KF_INTERRUPT_TRIALS / KF_INTERRUPT_SEED and sums the
leftovers each trial counted through the served stack's Admin API and identity /v1 API (docs/cleanup.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("-n", "--workers", default="0", help="pytest-xdist workers for the trials")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "trials.jsonl"
        env = {
            **os.environ,
            "KF_INTERRUPT_TRIALS": str(args.trials),
            "KF_INTERRUPT_SEED": str(args.seed),
            "KF_INTERRUPT_RECORD": str(record),
        }
        command = [sys.executable, "-m", "pytest", "tests/cleanup/test_interrupted_runs.py", "-q"]
        command += ["-p", "no:cacheprovider"] + (["-n", args.workers] if args.workers != "0" else [])
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rows = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    left: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    for row in rows:
        left.update(row["left"])
        phases[row["phase"]] += 1
    print(f"trials measured  {len(rows)} of {args.trials} (seed {args.seed}), wall {wall:.1f} s")
    print("by phase         " + ", ".join(f"{k} {v}" for k, v in sorted(phases.items())))
    print(f"leftovers        {sum(left.values())} ({', '.join(f'{k} {v}' for k, v in sorted(left.items()))})")
    if done.returncode != 0:
        print(done.stdout[-3000:])
    return 0 if rows and not sum(left.values()) and len(rows) == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
