"""Reading what a run writes under reports/: JUnit XML, allure results, requirements-coverage.json.

Spec: issue 4 Deliver 7 (JUnit XML and allure-pytest results with each test's requirement IDs as labels; the
HTML compliance report builds on these) and reports/README.md (the coverage JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _pytest.junitxml import mangle_test_address
from tests.report.report_samples import CATALOGUE_DOC, write_sample_run

from kongformance.report.results import (
    ReportInputError,
    junit_key,
    meta_key,
    read_allure,
    read_coverage,
    read_junit,
)

EXPECTED = {
    "test_accepts_a_valid_token": "passed",
    "test_refuses_an_expired_token": "failed",
    "test_accepts_secret_in_the_body": "failed",
    "test_caches_the_token": "error",
    "test_jwt_refuses_a_missing_token": "skipped",
    "test_jwt_sends_a_challenge": "xfailed",
    "test_no_error_code_without_a_token": "passed",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_run(tmp_path_factory.mktemp("run")).reports


@pytest.mark.parametrize(
    "nodeid",
    [
        "suites/test_guard.py::test_protected_route_rejects[oidc-bearer]",
        "suites/test_x.py::TestClass::test_y[a::b/c.py]",
        "test_top.py::test_plain",
    ],
)
def test_maps_a_node_id_to_the_junit_name_pytest_writes(nodeid: str) -> None:
    """issue 4 Deliver 7: coverage JSON (node ids) and JUnit XML (classname, name) name the same test."""
    names = mangle_test_address(nodeid)
    assert junit_key(nodeid) == (".".join(names[:-1]), names[-1])


def test_reads_every_outcome_pytest_writes_to_junit(sample: Path) -> None:
    """issue 4 Deliver 7: passed, failed, error, skip and xfail are told apart."""
    cases, meta = read_junit(sample / "junit.xml")
    outcomes = {c.key[1]: c.outcome for c in cases}
    assert {k: outcomes[k] for k in EXPECTED} == EXPECTED
    assert meta["started"] and meta["duration"] >= 0


def test_reads_requirement_and_deviation_properties_and_failure_text(sample: Path) -> None:
    """issue 4 Deliver 7: each test case carries its requirement IDs as properties."""
    cases = {c.key[1]: c for c in read_junit(sample / "junit.xml")[0]}
    dev = cases["test_no_error_code_without_a_token"]
    assert dev.requirements == ["R-dev", "R-dev-other"] and dev.deviations == ["dev-recorded"]
    failed = cases["test_refuses_an_expired_token"]
    assert failed.message.startswith("AssertionError: expected 401") and "assert 200 == 401" in failed.details
    assert cases["test_jwt_sends_a_challenge"].message == "jwt challenge not implemented"


def test_reads_the_same_outcomes_and_requirement_labels_from_allure(sample: Path) -> None:
    """issue 4 Deliver 7: allure results carry the requirement IDs as labels."""
    cases, meta = read_allure(sample / "allure-results")
    by_name = {c.key[1]: c for c in cases}
    assert {k: by_name[k].outcome for k in EXPECTED} == EXPECTED
    assert by_name["test_refuses_an_expired_token"].requirements == ["R-MUST-fail"]
    assert by_name["test_jwt_sends_a_challenge"].message == "jwt challenge not implemented"
    assert by_name["test_jwt_refuses_a_missing_token"].message.startswith("needs a consumer")
    junit_keys = {c.key for c in read_junit(sample / "junit.xml")[0]}
    assert {c.key for c in cases} == junit_keys
    assert meta["duration"] >= 0


def test_reads_the_catalogue_and_tests_of_the_coverage_json(sample: Path) -> None:
    """reports/README.md: every requirement, the tests that cover it and their outcomes, deviations."""
    catalogue, cases, _ = read_coverage(sample / "requirements-coverage.json")
    assert list(catalogue.requirements) == [r["id"] for r in CATALOGUE_DOC["requirements"]]
    by_name = {c.key[1]: c for c in cases}
    assert by_name["test_no_error_code_without_a_token"].deviations == ["dev-recorded"]
    assert (
        by_name["test_refuses_an_expired_token"].nodeid
        == "sample/test_sample.py::test_refuses_an_expired_token"
    )


def test_reads_run_facts_from_the_coverage_json_and_junit_properties(tmp_path: Path) -> None:
    """Run summary: target and Kong version, wherever the run records them."""
    doc = dict(CATALOGUE_DOC, run={"target": "konnect", "kong_version": "3.11", "duration": 12.5})
    (tmp_path / "c.json").write_text(json.dumps(doc), "utf-8")
    assert read_coverage(tmp_path / "c.json")[2] == {
        "target": "konnect",
        "kong_version": "3.11",
        "duration": 12.5,
    }
    (tmp_path / "j.xml").write_text(
        '<testsuites><testsuite name="pytest" time="3.0" timestamp="2026-01-01T00:00:00">'
        '<properties><property name="kongformance.target" value="docker"/>'
        '<property name="kong-version" value="3.9"/></properties></testsuite></testsuites>',
        "utf-8",
    )
    meta = read_junit(tmp_path / "j.xml")[1]
    assert meta == {
        "started": "2026-01-01T00:00:00",
        "duration": 3.0,
        "target": "docker",
        "kong_version": "3.9",
    }
    assert meta_key("KF_KONG_VERSION") == "kong_version" and meta_key("hostname") is None


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("<testsuites><testsuite>", "not readable JUnit XML"),
        ("<html><body/></html>", "not JUnit XML"),
        ('<testsuite><testcase name="t" time="fast"/></testsuite>', "bad time value"),
    ],
)
def test_refuses_malformed_junit_with_a_one_line_error(tmp_path: Path, content: str, fragment: str) -> None:
    """h11: malformed XML gives a clear one-line error, never a traceback."""
    path = tmp_path / "junit.xml"
    path.write_text(content, "utf-8")
    with pytest.raises(ReportInputError) as err:
        read_junit(path)
    assert fragment in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ('{"requirements": [', "malformed JSON"),
        ("[1, 2]", "expected an object with a 'requirements' list"),
        ('{"requirements": [{"id": "X"}]}', "lacks"),
        (
            '{"requirements": [{"id": "X", "statement": "s", "source": "s", "level": "MUST", '
            '"flows": ["jwt"], "tests": [{"outcome": "passed"}]}]}',
            "no 'test' node id",
        ),
    ],
)
def test_refuses_a_malformed_coverage_json_with_a_one_line_error(
    tmp_path: Path, content: str, fragment: str
) -> None:
    """h11: malformed JSON gives a clear one-line error, never a traceback."""
    path = tmp_path / "requirements-coverage.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ReportInputError) as err:
        read_coverage(path)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_refuses_a_malformed_allure_result(tmp_path: Path) -> None:
    """h11: malformed JSON in allure-results/ gives a clear one-line error."""
    (tmp_path / "0-result.json").write_text('{"name": ', "utf-8")
    with pytest.raises(ReportInputError, match="malformed JSON"):
        read_allure(tmp_path)
    (tmp_path / "0-result.json").write_text('{"status": "passed"}', "utf-8")
    with pytest.raises(ReportInputError, match="not an allure result"):
        read_allure(tmp_path)
