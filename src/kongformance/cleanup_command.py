"""``kongformance cleanup``: remove what crashed runs left behind, on every target (docs/cleanup.md).

``kongformance cleanup [--target T ...] [--older-than 1h] [--ledger DIR] [--set KEY=VALUE ...]`` finishes
the teardown of every run whose ledger owner is gone, then removes by label/tag what no live run owns and
is older than ``--older-than``: auth servers (with their scopes, claims and clients) and gateway entities
on ``external`` and ``konnect``, labelled containers on ``docker``, stale ledgers of ``local`` (whose
objects died with the run's process). Without ``--target``, every target whose settings are present.
A live run's objects are never touched. Exit 1 when something could not be removed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from kongformance import run_cleanup
from kongformance.targets import TARGETS, TargetOptions, TargetUnavailable, select_target
from kongformance.targets.setup import admin_client, identity_client, target_endpoints

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``1h``, ``2d`` -> seconds (argparse type)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 30m, 1h, 2d)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", action="append", choices=TARGETS, default=None, help="target to clean (repeatable)"
    )
    parser.add_argument(
        "--older-than",
        type=duration,
        default=run_cleanup.DEFAULT_OLDER_THAN,
        help="unowned leftovers older than this (default 1h; ledgers whose owner is gone: any age)",
    )
    parser.add_argument(
        "--ledger", default=None, help="run ledger directory (default KF_LEDGER_DIR or cache)"
    )
    parser.add_argument(
        "--set",
        "--kf-set",
        dest="set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="target setting",
    )


def _endpoints(name: str, settings: dict[str, str]) -> run_cleanup.Endpoints:
    """The target's APIs, connected (not started): external and konnect only read their settings."""
    if name == "local":
        return run_cleanup.Endpoints()
    if name == "docker":
        from kongformance.targets import docker

        ok, why = docker.engine_reachable()
        if not ok:
            raise TargetUnavailable(why)
        return run_cleanup.Endpoints(containers=run_cleanup.sweep_containers)
    stack = select_target(name, TargetOptions(settings=settings)).start()
    return target_endpoints(stack, admin_client(stack), identity_client(stack))


def main(args: argparse.Namespace) -> int:
    settings = dict(s.split("=", 1) for s in args.set if "=" in s)
    bad = [s for s in args.set if "=" not in s]
    if bad:
        print(f"kongformance cleanup: --set needs KEY=VALUE, got {bad[0]!r}", file=sys.stderr)
        return 2
    directory = Path(args.ledger) if args.ledger else None
    explicit = bool(args.target)
    status = 0
    for name in args.target or TARGETS:
        try:
            ends = _endpoints(name, settings)
        except TargetUnavailable as exc:
            lines = str(exc).splitlines() or [""]  # one line per missing or invalid setting
            if explicit:
                for line in lines:
                    print(f"kongformance cleanup: {name}: {line}", file=sys.stderr)
                status = 2
            else:
                print(f"{name}: skipped ({'; '.join(lines)})")
            continue
        try:
            swept = run_cleanup.sweep(ends, older_than=args.older_than, directory=directory)
        finally:
            for client in (ends.admin, ends.identity):
                if client is not None:
                    client.close()
        where = ends.admin_url or ends.management_url
        print(f"{name}{' ' + where if where else ''}: {swept.summary()}")
        for problem in swept.problems:
            print(f"kongformance cleanup: {name}: {problem}", file=sys.stderr)
            status = max(status, 1)
    return status
