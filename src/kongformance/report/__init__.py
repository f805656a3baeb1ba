"""``kongformance report``: the HTML compliance report of a run, built from its results under reports/.

``kongformance report [--reports-dir reports] [--output reports/compliance.html]`` reads the JUnit XML,
allure results and requirements-coverage.json a run wrote, and writes one self-contained HTML page: run
summary, requirement-traceability matrix with a verdict per requirement, uncovered requirements, observed
deviations and failure messages, all redacted. :func:`build_report` does the same for the runner.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from kongformance.report import history
from kongformance.report.assemble import load_report
from kongformance.report.model import ComplianceReport
from kongformance.report.redaction import redact
from kongformance.report.render import render_html
from kongformance.report.results import ReportInputError

__all__ = [
    "ComplianceReport",
    "ReportInputError",
    "add_arguments",
    "build_report",
    "load_report",
    "main",
    "redact",
    "render_html",
]

DEFAULT_OUTPUT_NAME = "compliance.html"


def build_report(
    reports_dir: Path,
    output: Path | None = None,
    *,
    target: str | None = None,
    kong_version: str | None = None,
    run_id: str | None = None,
) -> Path:
    """Write the compliance report of the run in ``reports_dir`` to ``output`` and return its path.

    ``output`` defaults to ``reports_dir/compliance.html``; ``target`` and ``kong_version`` fill in run
    facts the results do not record; with ``run_id`` the results must be that run's. Raises :class:`ReportInputError` on missing or malformed results.
    """
    reports_dir = Path(reports_dir)
    output = Path(output) if output is not None else reports_dir / DEFAULT_OUTPUT_NAME
    overrides = {k: v for k, v in (("target", target), ("kong_version", kong_version)) if v}
    report = load_report(reports_dir, overrides, run_id=run_id)
    report.history = history.timelines(history.record(reports_dir, report))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    page = render_html(report, generated)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page, "utf-8")
    except OSError as exc:
        raise ReportInputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reports-dir", default="reports", help="directory a run wrote its results to (default reports)"
    )
    parser.add_argument(
        "--output", default=None, help="HTML file to write (default <reports-dir>/compliance.html)"
    )
    parser.add_argument("--target", default=None, help="target name to show when the results lack it")
    parser.add_argument("--kong-version", default=None, help="Kong version to show when the results lack it")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        type=Path,
        default=None,
        help="show what changed from run A to run B (reports dirs or coverage JSON files); exit 1 on a regression",
    )


def main(args: argparse.Namespace) -> int:
    if getattr(args, "compare", None):
        from kongformance.report import compare

        try:
            return compare.main(*args.compare)
        except ReportInputError as exc:
            print(f"kongformance report: {redact(str(exc))}", file=sys.stderr)
            return 2
    reports_dir = Path(args.reports_dir)
    output = Path(args.output) if args.output else None
    try:
        path = build_report(reports_dir, output, target=args.target, kong_version=args.kong_version)
    except ReportInputError as exc:
        print(f"kongformance report: {redact(str(exc))}", file=sys.stderr)
        return 2
    print(f"kongformance report: wrote {path}")
    return 0
