"""Issue 11, Deliver 5 and 2: a report is only built from one run's results, and shows failure evidence.

Results carry the run's id (coverage JSON ``run.run_id``, JUnit property ``kongformance.run_id``, allure
environment.properties); ``kongformance run`` never re-renders a previous run's report under new labels.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from tests.report.report_samples import SECRETS, write_sample_run

from kongformance import runner
from kongformance.report import ReportInputError, build_report, load_report, render_html
from kongformance.report.evidence_html import evidence_html


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_run(tmp_path_factory.mktemp("run")).reports


def _with_run_ids(src: Path, dst: Path, coverage_id: str, junit_id: str) -> Path:
    shutil.copytree(src, dst)
    cov = dst / "requirements-coverage.json"
    doc = json.loads(cov.read_text("utf-8"))
    doc.setdefault("run", {})["run_id"] = coverage_id
    cov.write_text(json.dumps(doc), "utf-8")
    junit = dst / "junit.xml"
    text = junit.read_text("utf-8")
    prop = f'<properties><property name="kongformance.run_id" value="{junit_id}" /></properties>'
    junit.write_text(text.replace("<testcase ", prop + "<testcase ", 1), "utf-8")
    return dst


def test_results_of_two_runs_are_refused(sample: Path, tmp_path: Path) -> None:
    mixed = _with_run_ids(sample, tmp_path / "mixed", "run-a", "run-b")
    with pytest.raises(ReportInputError, match="come from different runs"):
        load_report(mixed)


def test_a_report_for_one_run_is_never_built_from_another_runs_results(sample: Path, tmp_path: Path) -> None:
    old = _with_run_ids(sample, tmp_path / "old", "run-a", "run-a")
    assert build_report(old, run_id="run-a").is_file()
    with pytest.raises(ReportInputError, match="not from this run"):
        build_report(old, run_id="run-b")


def test_kongformance_run_says_so_when_the_run_wrote_no_results(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _with_run_ids(sample, tmp_path / "old", "run-a", "run-a")
    before = (old / "junit.xml").read_bytes()
    args = argparse.Namespace(reports=str(old))
    monkeypatch.setenv("KF_RUN_ID", "run-b")
    assert runner.write_compliance_report(args, 4) is False
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wrote no results (pytest exit status 4)" in err
    assert (old / "junit.xml").read_bytes() == before and not (old / "compliance.html").exists()


EVIDENCE = {
    "when": "call",
    "requirements": [{"id": "R-MUST-fail", "level": "MUST", "statement": "An expired token is refused."}],
    "failure": "AssertionError: expected (401,), got 200",
    "defects": ["oidc_accept_expired_token"],
    "exchanges": [
        {
            "method": "GET",
            "url": "https://127.0.0.1:8443/oidc",
            "request_headers": {"authorization": f"Bearer {SECRETS[0]}"},
            "request_body": "",
            "tokens": [{"token": "[redacted 1234abcd]", "header": {"alg": "RS256"}, "claims": {"exp": 1}}],
            "status": 200,
            "response_headers": {"content-type": "application/json"},
            "response_body": f'{{"headers": {{"Authorization": "Basic {SECRETS[3]}"}}}}',
        }
    ],
}


def test_a_failure_card_shows_the_evidence_redacted_again() -> None:
    """Evidence is redacted when recorded; the card redacts it again and never trusts it."""
    out = evidence_html(EVIDENCE)
    assert "Expected versus actual" in out and "expected (401,), got 200" in out
    assert "oidc_accept_expired_token" in out and "GET https://127.0.0.1:8443/oidc" in out
    assert '"exp": 1' in out and "&rarr; 200" in out
    assert not [s for s in SECRETS if s in out]


def test_the_banner_names_the_failing_requirements(sample: Path) -> None:
    page = render_html(load_report(sample), "now")
    banner = page.split('<div class="banner red">', 1)[1].split("</div>", 1)[0]
    assert "R-MUST-fail" in banner and "R-KONG-error" in banner
