"""``kongformance report --compare A B``: what changed between two runs (say local against the nightly
Konnect run, or two Kong versions). A and B are each a reports directory or a requirements-coverage.json.

Prints the run facts of both, the requirements whose verdict changed, the deviations observed only in B (new)
and only in A (vanished), and the requirements only one catalogue has. Exit code 1 when a requirement fails
in B that did not fail in A (a regression), 0 otherwise, 2 on bad input.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kongformance.report.assemble import COVERAGE, load_report
from kongformance.report.model import ComplianceReport
from kongformance.report.results import ReportInputError


@dataclass
class Drift:
    """The differences between run A and run B."""

    a: ComplianceReport
    b: ComplianceReport
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # requirement, verdict in A, in B
    new_deviations: list[str] = field(default_factory=list)
    vanished_deviations: list[str] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[tuple[str, str, str]]:
        return [c for c in self.changed if c[2] == "fails"]


def load_run(path: Path) -> ComplianceReport:
    """The report of the run at ``path`` (a reports directory or a coverage JSON file)."""
    if path.is_dir():
        return load_report(path)
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="kf-compare-") as tmp:
            shutil.copyfile(path, Path(tmp) / COVERAGE)
            return load_report(Path(tmp))
    raise ReportInputError(f"{path}: no such reports directory or coverage JSON file")


def _observed(report: ComplianceReport) -> set[str]:
    return {d for t in report.tests for d in t.deviations}


def compare(a: ComplianceReport, b: ComplianceReport) -> Drift:
    va = {r.requirement.id: r.verdict for r in a.rows}
    vb = {r.requirement.id: r.verdict for r in b.rows}
    drift = Drift(a, b)
    drift.changed = [(rid, va[rid], vb[rid]) for rid in va if rid in vb and va[rid] != vb[rid]]
    drift.only_a = [rid for rid in va if rid not in vb]
    drift.only_b = [rid for rid in vb if rid not in va]
    da, db = _observed(a), _observed(b)
    drift.new_deviations = sorted(db - da)
    drift.vanished_deviations = sorted(da - db)
    return drift


def _facts(name: str, path: Path, report: ComplianceReport) -> str:
    run = report.run
    return (
        f"{name}: {path} (run {run.run_id or '?'}, target {run.target or '?'}, "
        f"Kong {run.kong_version or '?'}, started {run.started or '?'}, {len(report.tests)} tests)"
    )


def render(drift: Drift, path_a: Path, path_b: Path) -> list[str]:
    """The comparison as lines of text."""
    departs = {**drift.a.departs, **drift.b.departs}
    lines = [_facts("A", path_a, drift.a), _facts("B", path_b, drift.b)]
    lines.append(f"verdicts that changed: {len(drift.changed)}")
    width = max((len(c[0]) for c in drift.changed), default=0)
    lines += [f"  {rid:<{width}}  {old} -> {new}" for rid, old, new in drift.changed]
    for label, ids in (
        ("new deviations (in B, not A)", drift.new_deviations),
        ("vanished deviations (in A, not B)", drift.vanished_deviations),
    ):
        lines.append(f"{label}: {len(ids)}")
        lines += [f"  {d} (departs from {departs.get(d, '?')})" for d in ids]
    if drift.only_a or drift.only_b:
        lines.append(f"requirements only in A: {', '.join(drift.only_a) or 'none'}")
        lines.append(f"requirements only in B: {', '.join(drift.only_b) or 'none'}")
    if drift.regressions:
        lines.append(f"{len(drift.regressions)} requirement(s) fail in B that did not fail in A")
    return lines


def main(path_a: Path, path_b: Path) -> int:
    """Print the comparison; 1 on a regression in B. Raises ReportInputError on bad input."""
    drift = compare(load_run(path_a), load_run(path_b))
    print("\n".join(render(drift, path_a, path_b)))
    return 1 if drift.regressions else 0
