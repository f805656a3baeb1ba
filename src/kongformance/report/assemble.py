"""Builds the :class:`ComplianceReport` of one run from its reports directory.

The three result files overlap; for each test case the JUnit XML wins (exact outcome, xfail, failure
text), then allure results, then the coverage JSON (which alone knows the pytest node id). Requirement and
deviation IDs are the union of all of them. The catalogue is the run's own (from the coverage JSON) or, when
that file is missing, the one shipped with the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from kongformance.deviations import Deviation, DeviationRegistry, RegistryError, load_registry
from kongformance.report.model import (
    ComplianceReport,
    DeviationNote,
    RequirementVerdict,
    RunInfo,
    TestResult,
    deviations_for,
    lacking,
    verdict_of,
)
from kongformance.report.results import (
    Observed,
    ReportInputError,
    RunMeta,
    TestKey,
    read_allure,
    read_coverage,
    read_evidence,
    read_junit,
)
from kongformance.requirements import Catalogue, CatalogueError, load_catalogue

JUNIT = "junit.xml"
COVERAGE = "requirements-coverage.json"
ALLURE = "allure-results"
EVIDENCE = "evidence.json"


def load_report(
    reports_dir: Path,
    overrides: Mapping[str, str] | None = None,
    registry: DeviationRegistry | None = None,
    run_id: str | None = None,
) -> ComplianceReport:
    """The report of the run whose results are in ``reports_dir``.

    ``overrides`` sets run facts the results lack (``target``, ``kong_version``); ``registry`` defaults
    to the deviation registry shipped with the package. Result files that name different run ids are
    refused; with ``run_id`` so are results of any other run (the report is never rebuilt from another
    run's results).
    """
    if not reports_dir.is_dir():
        raise ReportInputError(
            f"no reports directory at {reports_dir} (run the suites first: kongformance run)"
        )
    batches: list[list[Observed]] = []  # in order of precedence
    metas: list[RunMeta] = []  # in order of increasing precedence
    sources: list[str] = []
    catalogue: Catalogue | None = None
    junit, coverage, allure = reports_dir / JUNIT, reports_dir / COVERAGE, reports_dir / ALLURE
    if junit.is_file():
        cases, meta = read_junit(junit)
        batches.append(cases)
        metas.append(meta)
        sources.append(JUNIT)
    if allure.is_dir() and any(allure.glob("*-result.json")):
        cases, meta = read_allure(allure)
        batches.append(cases)
        metas.insert(0, meta)
        sources.append(f"{ALLURE}/")
    if coverage.is_file():
        catalogue, cases, meta = read_coverage(coverage)
        batches.append(cases)
        metas.append(meta)
        sources.append(COVERAGE)
    if not sources:
        raise ReportInputError(
            f"no results in {reports_dir} (expected {JUNIT}, {COVERAGE} or {ALLURE}/; "
            "run the suites first: kongformance run)"
        )
    _check_one_run(reports_dir, metas, run_id)
    tests = _merge(batches)
    evidence_path = reports_dir / EVIDENCE
    if evidence_path.is_file():
        evidence, evidence_run = read_evidence(evidence_path)
        if evidence_run == _run_id(metas):
            tests = [replace(t, evidence=evidence.get(t.nodeid)) for t in tests]
    run = _run_info(metas, overrides or {}, tuple(sources))
    return _report(catalogue or _shipped_catalogue(), tests, run, registry or _shipped_registry())


def _run_id(metas: list[RunMeta]) -> str | None:
    ids = [str(m["run_id"]) for m in metas if m.get("run_id")]
    return ids[0] if ids else None


def _check_one_run(reports_dir: Path, metas: list[RunMeta], run_id: str | None) -> None:
    ids = sorted({str(m["run_id"]) for m in metas if m.get("run_id")})
    if len(ids) > 1:
        raise ReportInputError(
            f"the results in {reports_dir} come from different runs ({', '.join(ids)}); run the suites again"
        )
    if run_id is not None and ids != [run_id]:
        found = f"run {ids[0]}" if ids else "a run without an id"
        raise ReportInputError(
            f"the results in {reports_dir} are from {found}, not from this run ({run_id}): it wrote no results"
        )


def _shipped_catalogue() -> Catalogue:
    try:
        return load_catalogue()
    except (CatalogueError, OSError) as exc:
        raise ReportInputError(f"the requirement catalogue does not load: {exc}") from exc


def _shipped_registry() -> DeviationRegistry:
    try:
        return load_registry()
    except (RegistryError, OSError) as exc:
        raise ReportInputError(f"the deviation registry does not load: {exc}") from exc


def _merge(batches: list[list[Observed]]) -> list[TestResult]:
    merged: dict[TestKey, list[Observed]] = {}
    for batch in batches:
        for obs in batch:
            merged.setdefault(obs.key, []).append(obs)
    out = []
    for key, seen in merged.items():
        nodeid = next((o.nodeid for o in seen if o.nodeid), None) or f"{key[0]}::{key[1]}"
        out.append(
            TestResult(
                nodeid=nodeid,
                outcome=next((o.outcome for o in seen if o.outcome), "skipped"),
                requirements=tuple(dict.fromkeys(r for o in seen for r in o.requirements if r)),
                deviations=tuple(dict.fromkeys(d for o in seen for d in o.deviations if d)),
                message=next((o.message for o in seen if o.message), ""),
                details=next((o.details for o in seen if o.details), ""),
                duration=next((o.duration for o in seen if o.duration is not None), None),
                flow=next((o.flow for o in seen if o.flow), None),
                opens=tuple(dict.fromkeys(r for o in seen for r in o.opens)),
                unchecked=tuple(dict.fromkeys(r for o in seen for r in o.unchecked)),
            )
        )
    return sorted(out, key=lambda t: t.nodeid)


def _run_info(metas: list[RunMeta], overrides: Mapping[str, str], sources: tuple[str, ...]) -> RunInfo:
    facts: RunMeta = {}
    for meta in metas:
        facts.update({k: v for k, v in meta.items() if v not in (None, "")})
    facts.update({k: v for k, v in overrides.items() if v})
    duration = facts.get("duration")
    try:
        seconds = float(duration) if duration is not None else None
    except (TypeError, ValueError):
        seconds = None
    return RunInfo(
        target=_text(facts.get("target")),
        kong_version=_text(facts.get("kong_version")),
        started=_text(facts.get("started")),
        duration=seconds,
        sources=sources,
        run_id=_text(facts.get("run_id")),
        defects=_text(facts.get("defects")),
        api_calls=dict(facts["api_calls"]) if isinstance(facts.get("api_calls"), Mapping) else None,
        unchecked=dict(facts.get("unchecked_on_target") or {}),
    )


def _text(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _report(
    catalogue: Catalogue, tests: list[TestResult], run: RunInfo, registry: DeviationRegistry
) -> ComplianceReport:
    recorded = {d.id: d for d in registry.deviations}
    departs = {d.id: d.requirement for d in registry.deviations}
    by_requirement: dict[str, list[TestResult]] = {}
    for test in tests:
        for rid in test.requirements:
            by_requirement.setdefault(rid, []).append(test)
    rows = []
    for rid, req in catalogue.requirements.items():
        covering = by_requirement.get(rid, [])
        notes: dict[str, DeviationNote] = {}
        for test in covering:
            for dev in deviations_for(rid, test, departs):
                notes.setdefault(dev, _note(dev, rid, recorded))
        verdict, caps = verdict_of(rid, covering, departs), lacking(covering)
        if rid in run.unchecked and verdict != "fails":  # the run's own account (terminal, coverage JSON)
            verdict, caps = "unchecked", tuple(run.unchecked[rid])
        rows.append(
            RequirementVerdict(
                req, covering, verdict, list(notes.values()), caps if verdict == "unchecked" else ()
            )
        )
    unknown = sorted(rid for rid in by_requirement if rid not in catalogue)
    return ComplianceReport(run=run, rows=rows, tests=tests, unknown_requirements=unknown, departs=departs)


def _note(dev_id: str, rid: str, recorded: Mapping[str, Deviation]) -> DeviationNote:
    dev = recorded.get(dev_id)
    if dev is None:
        return DeviationNote(dev_id, rid, "not in the deviation registry", "", (), recorded=False)
    return DeviationNote(dev.id, dev.requirement, dev.summary, dev.kong_versions, dev.source)
