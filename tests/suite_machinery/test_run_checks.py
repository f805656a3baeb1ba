"""A run fails closed: all-skipped runs and unchecked MUST requirements exit non-zero (issue 9 Deliver 1)."""

from __future__ import annotations

import pytest

from kongformance.requirements import load_catalogue
from kongformance.run_checks import DEPARTURE, EXIT_UNCHECKED, RunChecks, lacking_from_reason, lacks_reason

MUST = "RFC6750-3.1-invalid-token"


def _must_and_other() -> tuple[str, str]:
    cat = load_catalogue()
    assert cat[MUST].level == "MUST"
    other = next(r.id for r in cat.requirements.values() if r.level != "MUST")
    return MUST, other


def test_a_capability_skip_reason_round_trips() -> None:
    reason = lacks_reason(["issuer_control", "virtual_clock"], "minting", target="konnect")
    assert reason == "target konnect lacks capabilities issuer_control, virtual_clock: minting"
    assert lacking_from_reason("Skipped: " + reason) == ["issuer_control", "virtual_clock"]
    assert lacking_from_reason("route variant 'x' is not part of this run's profile") == []


def test_a_must_requirement_whose_only_test_skipped_without_a_capability_reason_fails_the_run() -> None:
    must, other = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::ran", [other], "passed")
    checks.record("t::skipped", [must], "skipped", "some other reason")
    assert checks.must_unchecked() == [must]
    assert any(must in line for line in checks.verdict())


def test_a_requirement_this_target_cannot_check_is_listed_with_its_capability_not_failed() -> None:
    must, other = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::ran", [other], "passed")
    checks.record("t::needs", [must], "skipped", lacks_reason(["virtual_clock"], target="konnect"))
    assert checks.must_unchecked() == []
    assert checks.unchecked_here() == {must: ["virtual_clock"]}
    assert checks.verdict() == []


def test_a_requirement_left_unchecked_by_a_recorded_departure_or_a_capability_does_not_fail_the_run() -> None:
    """Without the upstream log (konnect), a refusal test cannot check that nothing was forwarded, and a test
    whose request Kong's recorded departure let through checks none of its refusal requirements."""
    must, other = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::ran", [other], "passed")
    checks.record("t::a", [other], "passed", unchecked=[f"{must} target konnect lacks upstream_log"])
    checks.record(
        "t::b", [other], "passed", unchecked=[f"{must} proxied: see deviation oidc-aud-not-verified"]
    )
    assert checks.must_unchecked() == []
    assert checks.unchecked_here() == {must: sorted([DEPARTURE, "upstream_log"])}


def test_one_executed_test_checks_a_requirement_whatever_its_other_tests_did() -> None:
    must, _ = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::a", [must], "skipped", "other")
    checks.record("t::b", [must], "failed")
    assert checks.must_unchecked() == [] and checks.unchecked_here() == {}


def test_every_test_skipped_is_a_verdict_even_for_capabilities() -> None:
    must, _ = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::a", [must], "skipped", lacks_reason(["db"]))
    assert checks.all_skipped()
    assert "checked nothing" in checks.verdict()[0]


SUITE = """
import pytest
from kongformance.run_checks import lacks_reason

@pytest.mark.requirement("{must}")
def test_must():
    {must_body}

@pytest.mark.requirement("{other}")
def test_other():
    {other_body}
"""


def _run(pytester: pytest.Pytester, must_body: str, other_body: str, *args: str) -> pytest.RunResult:
    must, other = _must_and_other()
    pytester.mkdir("suites")
    source = SUITE.format(must=must, other=other, must_body=must_body, other_body=other_body)
    (pytester.path / "suites" / "test_x.py").write_text(source)
    return pytester.runpytest_subprocess(
        "suites", "--kf-reports", str(pytester.path / "out"), "-p", "no:cacheprovider", *args
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_whose_every_test_skipped_exits_non_zero(pytester: pytest.Pytester, workers: list[str]) -> None:
    result = _run(pytester, 'pytest.skip("not today")', 'pytest.skip("nor today")', *workers)
    assert result.ret == EXIT_UNCHECKED
    result.stdout.fnmatch_lines(["*run fails closed: every one of the 2 selected tests skipped*"])
    verdicts = [li for li in result.outlines + result.errlines if "run fails closed" in li]
    assert len(verdicts) == len(set(verdicts)) == 2, verdicts  # each reason once (under xdist too)


def test_a_skipped_must_requirement_the_target_can_check_exits_non_zero(pytester: pytest.Pytester) -> None:
    result = _run(pytester, 'pytest.skip("flaky upstream")', "pass")
    assert result.ret == EXIT_UNCHECKED
    result.stdout.fnmatch_lines([f"*run fails closed: 1 MUST requirement(s)*{MUST}*"])


def test_a_must_requirement_the_target_cannot_check_is_listed_and_the_run_passes(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, 'pytest.skip(lacks_reason(["upstream_log"], target="external"))', "pass")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [f"*requirements left unchecked on target *(1): {MUST} (needs upstream_log)*"]
    )
    import json

    run = json.loads((pytester.path / "out" / "requirements-coverage.json").read_text())["run"]
    assert run["unchecked_on_target"] == {MUST: ["upstream_log"]}
    assert run["verdict"] == [] and run["api_calls"]["total"] >= 0


def test_only_the_requirements_of_selected_tests_are_asked_for(pytester: pytest.Pytester) -> None:
    """-k deselects the MUST test: its requirement is not asked for, so the run passes."""
    result = _run(pytester, 'pytest.skip("never selected")', "pass", "-k", "test_other")
    assert result.ret == pytest.ExitCode.OK


def test_failing_tests_keep_their_exit_code(pytester: pytest.Pytester) -> None:
    result = _run(pytester, 'pytest.skip("x")', "assert False")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_test_that_ran_but_marked_a_requirement_unchecked_does_not_check_it() -> None:
    """fixtures.http.mark_unchecked: a passed test that could not see the upstream credits nothing for it."""
    must, other = _must_and_other()
    checks = RunChecks(load_catalogue())
    checks.record("t::a", [other, must], "passed", unchecked=[f"{must} target konnect lacks upstream_log"])
    assert checks.unchecked_here() == {must: ["upstream_log"]}
    assert checks.must_unchecked() == [] and checks.verdict() == []
    assert lacking_from_reason("target x lacks virtual_clock: real-time waits are shared") == [
        "virtual_clock"
    ]
    assert lacking_from_reason("lacks patience") == []
