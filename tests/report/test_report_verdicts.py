"""Verdict per requirement and its colour.

Spec: h11 brief (verdicts conforms / fails / deviation / not covered / skipped; MUST failures red, SHOULD
failures amber, KONG failures red); issue 4 Deliver 4 (a recorded deviation is reported as a deviation, not a
failure); the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) 7.6 (requirement -> tests -> status).
"""

from __future__ import annotations

import pytest

from kongformance.report.model import ComplianceReport, RequirementVerdict, RunInfo, TestResult, verdict_of
from kongformance.requirements import Requirement
from kongformance.sources import Source

DEPARTS = {"dev-a": "R1"}


def _t(outcome: str, *deviations: str, message: str = "") -> TestResult:
    return TestResult(f"suites/test_x.py::test_{outcome}", outcome, ("R1",), deviations, message)


@pytest.mark.parametrize(
    "outcomes, verdict",
    [
        ([], "not-covered"),
        (["passed"], "conforms"),
        (["passed", "failed"], "fails"),
        (["passed", "error"], "fails"),
        (["skipped"], "skipped"),
        (["skipped", "passed"], "conforms"),
        (["xfailed"], "xfail"),
        (["xfailed", "skipped"], "xfail"),
        (["xpassed"], "conforms"),
    ],
)
def test_derives_the_verdict_from_the_outcomes_of_the_covering_tests(
    outcomes: list[str], verdict: str
) -> None:
    """h11: one verdict per requirement from the tests that name it."""
    assert verdict_of("R1", [_t(o) for o in outcomes], DEPARTS) == verdict


def test_reports_a_recorded_deviation_as_a_deviation_not_a_failure() -> None:
    """issue 4 Deliver 4: a passing test that observed a recorded deviation gives the verdict deviation."""
    assert verdict_of("R1", [_t("passed"), _t("passed", "dev-a")], DEPARTS) == "deviation"


def test_a_failure_outranks_a_deviation() -> None:
    """issue 4 Deliver 4: a vanished deviation fails its test, and the requirement fails."""
    assert verdict_of("R1", [_t("passed", "dev-a"), _t("failed")], DEPARTS) == "fails"


def test_a_deviation_counts_only_against_the_requirement_it_departs_from() -> None:
    """deviations.yaml: each deviation names the one requirement it departs from."""
    test = TestResult("t", "passed", ("R1", "R2"), ("dev-a",))
    assert verdict_of("R1", [test], DEPARTS) == "deviation"
    assert verdict_of("R2", [test], DEPARTS) == "conforms"
    assert verdict_of("R2", [test], {}) == "deviation"  # an unregistered id counts against every requirement


def _row(level: str, outcome: str) -> RequirementVerdict:
    req = Requirement("R1", "s", (Source("RFC 6750 3.1", ""),), level, ("oidc-bearer",))
    tests = [_t(outcome)]
    return RequirementVerdict(req, tests, verdict_of("R1", tests, DEPARTS))


@pytest.mark.parametrize(
    "level, outcome, severity",
    [
        ("MUST", "failed", "red"),
        ("KONG", "failed", "red"),
        ("SHOULD", "failed", "amber"),
        ("SHOULD", "error", "amber"),
        ("MUST", "passed", "green"),
        ("MUST", "skipped", "grey"),
    ],
)
def test_colours_must_and_kong_failures_red_and_should_failures_amber(
    level: str, outcome: str, severity: str
) -> None:
    """h11: MUST failures red, SHOULD failures amber, KONG behaviour failures red."""
    assert _row(level, outcome).severity == severity


def test_lists_skip_reasons_once_each() -> None:
    """h11: skipped with the reason."""
    req = Requirement("R1", "s", (Source("x", ""),), "MUST", ("jwt",))
    tests = [
        _t("skipped", message="no db"),
        _t("skipped", message="no db"),
        _t("skipped", message="konnect only"),
    ]
    assert RequirementVerdict(req, tests, "skipped").reasons == ["no db", "konnect only"]


def test_counts_tests_deviations_and_must_readiness() -> None:
    """h11: run summary counts passed / failed / skipped / deviations / xfail."""
    must = Requirement("R1", "s", (Source("x", ""),), "MUST", ("jwt",))
    should = Requirement("R2", "s", (Source("x", ""),), "SHOULD", ("jwt",))
    tests = [_t("passed"), _t("passed", "dev-a"), _t("failed"), _t("skipped"), _t("xfailed")]
    report = ComplianceReport(
        RunInfo(),
        [RequirementVerdict(must, tests[:2], "deviation"), RequirementVerdict(should, [], "not-covered")],
        tests,
    )
    counts = report.test_counts()
    assert (
        counts["passed"],
        counts["failed"],
        counts["skipped"],
        counts["xfailed"],
        counts["deviations"],
    ) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert report.readiness() == (1, 1)
    assert [r.requirement.id for r in report.uncovered()] == ["R2"]
