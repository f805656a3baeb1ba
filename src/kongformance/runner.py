"""``kongformance run``: the conformance suites under pytest against a target, writing reports/.

``kongformance run [--target local|docker|external|konnect] [-n N] [-- pytest args]`` runs pytest over
``suites/``; ``kongformance run --mutation`` runs the mutation check instead (every defect of the reference
gateway and issuer emulator must be caught; exit 1 otherwise) and writes ``reports/mutation.json``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from types import FrameType

from kongformance.cli_args import kong_versions, positive_int, workers
from kongformance.targets import TARGETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=TARGETS, default=None, help="where to run (default: local)")
    parser.add_argument(
        "--kong-version",
        type=kong_versions,
        default=None,
        help="Kong version (default 3.15); several (3.9,3.14,3.15) = a matrix",
    )
    parser.add_argument(
        "--kong-image", default=None, help="docker target: Kong image (KF_KONG_IMAGE); several = a matrix"
    )
    parser.add_argument("--db-less", action="store_true", help="configure the gateway with POST /config")
    parser.add_argument(
        "-n", "--workers", type=workers, default=None, help="pytest-xdist workers (e.g. auto)"
    )
    parser.add_argument("--hypothesis-profile", choices=("dev", "ci", "nightly"), default=None)
    parser.add_argument("--suites", default="suites", help="directory of the suites (default ./suites)")
    parser.add_argument("--reports", default=None, help="output directory (default ./reports)")
    parser.add_argument("--mutation", action="store_true", help="run the mutation check instead")
    parser.add_argument("--jobs", type=positive_int, default=2, help="parallel stacks for the mutation check")
    parser.add_argument("--defect", action="append", default=[], help="mutation check: only these defects")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments after --")


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for ``args`` (without the interpreter)."""
    out = [str(args.suites), "-p", "no:cacheprovider"]
    if args.target:
        out += ["--kf-target", args.target]
    if args.kong_version:
        out += ["--kf-kong-version", args.kong_version]
    if args.db_less:
        out.append("--kf-db-less")
    if getattr(args, "kong_image", None) and "," not in args.kong_image:
        out += ["--kf-set", f"KF_KONG_IMAGE={args.kong_image}"]
    if args.workers:
        out += ["-n", str(args.workers)]
    if args.hypothesis_profile:
        out += ["--kf-hypothesis-profile", args.hypothesis_profile]
    if args.reports:
        out += ["--kf-reports", args.reports]
    extra = list(args.pytest_args or [])
    if extra[:1] == ["--"]:
        extra = extra[1:]
    return out + extra


def unknown_defects(names: list[str]) -> list[str]:
    """The names among ``names`` that no component's defect catalogue knows."""
    from kongformance.gateway.defects import gateway_catalogue
    from kongformance.identity.defects import ISSUER_DEFECTS

    known = set(gateway_catalogue()) | set(ISSUER_DEFECTS)
    return [name for name in names if name not in known]


def main(args: argparse.Namespace) -> int:
    suites = Path(args.suites)
    if not suites.is_dir():
        print(f"kongformance run: no suites directory at {suites.resolve()} (use --suites)", file=sys.stderr)
        return 2
    if args.defect and not args.mutation:
        print(
            "kongformance run: error: --defect applies to the mutation check only (add --mutation)",
            file=sys.stderr,
        )
        return 2
    unknown = unknown_defects(args.defect)
    if unknown:
        print(f"kongformance run: error: unknown defect {', '.join(map(repr, unknown))}", file=sys.stderr)
        return 2
    reports = Path(args.reports or "reports")
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"kongformance run: error: cannot write reports to {reports}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.mutation:
        from kongformance.mutation import mutation_check, print_report, write_report

        out = reports / "mutation.json"
        report = mutation_check(suites.resolve(), jobs=args.jobs, only=args.defect, previous=out)
        print_report(report)
        write_report(report, out)
        return 0 if not report.survivors() else 1
    from kongformance.matrix_run import MatrixError, entries, run_matrix

    try:
        runs = entries(args)
    except MatrixError as exc:
        print(f"kongformance run: {exc}", file=sys.stderr)
        return 2
    if len(runs) > 1:
        return run_matrix(args, runs)
    # a fresh interpreter: pytest must import (and assertion-rewrite) kongformance itself; its plugin
    # writes the compliance report at the end of the run, tagged with this run id
    os.environ["KF_RUN_ID"] = uuid.uuid4().hex[:16]
    status = run_forwarding_signals([sys.executable, "-m", "pytest", *pytest_arguments(args)])
    write_compliance_report(args, status)
    return status


def run_forwarding_signals(command: list[str]) -> int:
    """Run ``command`` in its own process group, pass SIGINT and SIGTERM on to it (once each time they
    arrive) and wait for it to finish its teardown; its exit status.

    Its own group: a Ctrl-C at the terminal reaches pytest once, through us, never twice (a second
    SIGINT would cut its teardown short), and ``kill <our pid>`` reaches it as well."""
    proc = subprocess.Popen(command, process_group=0)

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_compliance_report(args: argparse.Namespace, status: int = 0) -> bool:
    """Whether the run just finished wrote its own results, whose compliance report its pytest plugin
    built; when it wrote none (bad input, a usage error) one line says so, and no report is built from
    another run's results."""
    from kongformance.report.assemble import COVERAGE
    from kongformance.report.results import ReportInputError, read_coverage

    reports = Path(args.reports or "reports")
    try:
        _, _, meta = read_coverage(reports / COVERAGE)
    except ReportInputError:
        meta = {}
    if meta.get("run_id") != os.environ.get("KF_RUN_ID"):
        print(
            f"kongformance run: the run wrote no results (pytest exit status {status}); no report was built",
            file=sys.stderr,
        )
        return False
    return True  # the plugin printed the report's path
