"""The pytest plugin: requirement markers, collection failures, reports (issue 4, Deliver 1 and 7)."""

from __future__ import annotations

import json
import os

import pytest

TAGGED = """
import pytest

@pytest.mark.requirement("RFC6750-3.1-invalid-token", "RS-no-5xx")
def test_ok():
    pass
"""

UNTAGGED = """
def test_untagged():
    pass
"""

UNKNOWN = """
import pytest

@pytest.mark.requirement("NOT-A-REQUIREMENT")
def test_unknown():
    pass
"""


def _suite(pytester: pytest.Pytester, source: str) -> None:
    pytester.mkdir("suites")
    (pytester.path / "suites" / "test_x.py").write_text(source)


def test_collection_fails_on_an_untagged_suite_test(pytester: pytest.Pytester) -> None:
    _suite(pytester, UNTAGGED)
    result = pytester.runpytest_subprocess("suites", "--kf-no-reports", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_untagged: no @pytest.mark.requirement*"])


def test_collection_fails_on_an_unknown_requirement_id(pytester: pytest.Pytester) -> None:
    _suite(pytester, UNKNOWN)
    result = pytester.runpytest_subprocess("suites", "--kf-no-reports", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown requirement id(s) NOT-A-REQUIREMENT*"])


def test_collection_fails_on_an_untagged_suite_test_under_xdist(pytester: pytest.Pytester) -> None:
    _suite(pytester, UNTAGGED)
    result = pytester.runpytest_subprocess("suites", "--kf-no-reports", "-p", "no:cacheprovider", "-n", "1")
    assert result.ret != pytest.ExitCode.OK


def test_tests_outside_suites_need_no_requirement(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=UNTAGGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["serial", "xdist"])
def test_reports_carry_requirement_ids_and_list_uncovered_requirements(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    _suite(pytester, TAGGED)
    reports = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "suites", "--kf-reports", str(reports), "-p", "no:cacheprovider", *workers
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*kongformance requirements*", "*requirements no test covers*"])
    junit = (reports / "junit.xml").read_text()
    assert 'name="requirement" value="RFC6750-3.1-invalid-token"' in junit
    allure = [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]
    labels = {(lab["name"], lab["value"]) for doc in allure for lab in doc.get("labels", [])}
    assert ("requirement", "RS-no-5xx") in labels
    coverage = json.loads((reports / "requirements-coverage.json").read_text())
    by_id = {r["id"]: r for r in coverage["requirements"]}
    assert by_id["RFC6750-3.1-invalid-token"]["status"] == "passed"
    assert "GUARD-unauthenticated-rejected" in coverage["uncovered"]


def test_header_names_the_hypothesis_profile_and_seed(pytester: pytest.Pytester) -> None:
    _suite(pytester, TAGGED)
    result = pytester.runpytest_subprocess(
        "suites",
        "--kf-no-reports",
        "--kf-hypothesis-profile",
        "nightly",
        "--hypothesis-seed",
        "1234",
        "-p",
        "no:cacheprovider",
    )
    result.stdout.fnmatch_lines(["*hypothesis profile nightly, seed 1234*"])


NEEDS_STACK = """
import pytest

@pytest.mark.requirement("GUARD-unauthenticated-rejected")
def test_needs_the_stack(kf_stack):
    pass
"""


KONNECT_SETTINGS = ("KONNECT_TOKEN", "KONNECT_REGION", "KONNECT_CONTROL_PLANE_ID", "KONNECT_PROXY_URL")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_konnect_target_without_settings_stops_the_run_before_any_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """issue 9 Deliver 1: no settings -> exit non-zero before any test, one line per missing setting (the
    xdist controller stops the session; no worker skips)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root / "src"), str(root)]))  # this tree's code
    for var in KONNECT_SETTINGS:
        monkeypatch.delenv(var, raising=False)
    pytester.makeconftest('pytest_plugins = ["fixtures.session"]')
    _suite(pytester, NEEDS_STACK)
    result = pytester.runpytest_subprocess(
        "suites", "--kf-target", "konnect", "--kf-no-reports", "-rs", "-p", "no:cacheprovider", *workers
    )
    assert result.ret == 3
    out = result.stdout.str() + result.stderr.str()
    for var in KONNECT_SETTINGS:
        lines = [li for li in out.splitlines() if li.strip(" !").startswith(f"{var}: missing")]
        assert len(lines) == 1, out  # one line per setting, printed once (under xdist too)
    assert "test_needs_the_stack" not in out and "skipped" not in out and "passed" not in out


def test_invalid_konnect_settings_are_named_one_line_each(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 9 Deliver 1: a region outside Konnect's list, a URL that does not parse, a token of the wrong kind."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root / "src"), str(root)]))  # this tree's code
    monkeypatch.setenv("KONNECT_TOKEN", "not-a-konnect-token")
    monkeypatch.setenv("KONNECT_REGION", "mars")
    monkeypatch.setenv("KONNECT_CONTROL_PLANE_ID", "cp")
    monkeypatch.setenv("KONNECT_PROXY_URL", "localhost:8000")
    pytester.makeconftest('pytest_plugins = ["fixtures.session"]')
    _suite(pytester, NEEDS_STACK)
    result = pytester.runpytest_subprocess(
        "suites", "--kf-target", "konnect", "--kf-no-reports", "-p", "no:cacheprovider"
    )
    assert result.ret == 3
    out = result.stdout.str() + result.stderr.str()
    assert "not-a-konnect-token" not in out
    for line in (
        "KONNECT_REGION: must be one of",
        "KONNECT_PROXY_URL: 'localhost:8000' is not",
        "KONNECT_TOKEN: not a",
    ):
        assert any(li.strip().startswith(line) for li in out.splitlines()), (line, out)


def test_an_unreachable_external_target_stops_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 9 Deliver 1: reachability is checked up front with a short timeout, one line per URL."""
    import socket
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root / "src"), str(root)]))  # this tree's code
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once the socket is closed
    pytester.makeconftest('pytest_plugins = ["fixtures.session"]')
    _suite(pytester, NEEDS_STACK)
    args = [f"--kf-set=KF_{k}_URL={closed}" for k in ("ADMIN", "PROXY", "IDENTITY", "UPSTREAM")]
    result = pytester.runpytest_subprocess(
        "suites", "--kf-target", "external", "--kf-no-reports", "-p", "no:cacheprovider", *args
    )
    assert result.ret == 3
    out = result.stdout.str() + result.stderr.str()
    for name in ("KF_ADMIN_URL", "KF_IDENTITY_URL", "KF_PROXY_URL"):
        assert any(li.strip().startswith(f"{name}: ") and "unreachable" in li for li in out.splitlines()), out


CREDENTIAL_PARAMETER = """
import pytest

@pytest.mark.requirement("RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("header", ["Basic a2Y6a2Y="], ids=["basic"])
def test_credential_value(header):
    pass
"""

CREDENTIAL_ID = """
import pytest

@pytest.mark.requirement("RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("name", ["x"], ids=["client_secret=s3cr3t-value-123"])
def test_credential_id(name):
    pass
"""


@pytest.mark.parametrize("source", [CREDENTIAL_PARAMETER, CREDENTIAL_ID], ids=["parameter", "test-id"])
def test_collection_fails_on_a_credential_in_a_test_id_or_parameter(
    pytester: pytest.Pytester, source: str
) -> None:
    """Test ids and parametrized values go into JUnit XML and allure results unredacted."""
    _suite(pytester, source)
    result = pytester.runpytest_subprocess("suites", "--kf-no-reports", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*looks like a credential and would reach the reports*"])


OFF_FLOW = """
import pytest

FLOW = "oauth2"

@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2")
def test_credits_another_flows_requirement():
    pass

@pytest.mark.flow("oidc-kong-oauth2")
@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2")
def test_marked_with_its_own_flow():
    pass
"""


def test_collection_fails_on_a_requirement_whose_flows_omit_the_tests_flow(pytester: pytest.Pytester) -> None:
    """issue 10 Deliver 3: a requirement's flows: is enforced (module FLOW, @pytest.mark.flow, a Flow param)."""
    _suite(pytester, OFF_FLOW)
    result = pytester.runpytest_subprocess("suites", "--kf-no-reports", "-p", "no:cacheprovider", "--co")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*test_credits_another_flows_requirement: runs on flow 'oauth2', which the flows: of KONG-OIDC-1.5-kong-oauth2 omit*"
        ]
    )
    assert "test_marked_with_its_own_flow" not in result.stderr.str()
