"""Interrupt trials: runs interrupted at seeded random points (set-up, mid-run, teardown) with SIGINT/SIGTERM,
and what each left behind (issue 9 target: >= 20 trials on local + konnect + docker, 0 leftovers). Prints
counts per target, not pass/fail timings.

    .venv/bin/python bench/interrupt_trials.py [--trials 20] [--seed 9] [-n 2] [--targets external,konnect]

Runs tests/cleanup/test_interrupted_{runs,konnect,local,docker}.py with KF_INTERRUPT_TRIALS (the number of
external trials) / KF_INTERRUPT_SEED and sums the leftovers each trial counted: through the served stack's
Admin API and identity /v1 API (external), Konnect's /v1 and core-entities APIs (konnect), the engine's
labelled containers and networks (docker; needs DOCKER_HOST), the run's process group (local), and the
ledger everywhere (docs/cleanup.md).
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
FILES = {
    "external": "tests/cleanup/test_interrupted_runs.py",
    "konnect": "tests/cleanup/test_interrupted_konnect.py",
    "local": "tests/cleanup/test_interrupted_local.py",
    "docker": "tests/cleanup/test_interrupted_docker.py",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("-n", "--workers", default="0", help="pytest-xdist workers for the trials")
    parser.add_argument("--targets", default=",".join(FILES), help="comma-separated: " + ", ".join(FILES))
    args = parser.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in FILES]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}: choose from {', '.join(FILES)}")
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "trials.jsonl"
        env = {
            **os.environ,
            "KF_INTERRUPT_TRIALS": str(args.trials),
            "KF_INTERRUPT_SEED": str(args.seed),
            "KF_INTERRUPT_RECORD": str(record),
        }
        command = [sys.executable, "-m", "pytest", *(FILES[t] for t in targets), "-q", "-rs"]
        command += ["-p", "no:cacheprovider"] + (["-n", args.workers] if args.workers != "0" else [])
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        rows = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    total = 0
    print(f"trials measured  {len(rows)} (seed {args.seed}), wall {wall:.1f} s")
    for target in targets:
        mine = [row for row in rows if row.get("target", "external") == target]
        left: Counter[str] = Counter()
        phases: Counter[str] = Counter()
        for row in mine:
            left.update(row["left"])
            phases[row["phase"]] += 1
        total += sum(left.values())
        by_phase = ", ".join(f"{k} {v}" for k, v in sorted(phases.items())) or "none (see the skip reasons)"
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(left.items()))
        print(f"{target:9} trials {len(mine):3}  by phase: {by_phase}")
        print(f"{'':9} leftovers {sum(left.values())} ({kinds})")
    if done.returncode != 0:
        print(done.stdout[-3000:])
    return 0 if rows and not total and done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
