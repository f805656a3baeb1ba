"""The HTML compliance report built from a real run's results, and the ``kongformance report`` command.

Spec: the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) 7.6 (requirement-traceability matrix rendered as HTML, deviation
registry tied to Kong version) and 7.9 (redacted evidence); issue 4 Deliver 7 (the report builds on JUnit XML
and allure results); reports/README.md (compliance.html); h11 brief (summary, verdicts, filters, uncovered
list, failure messages, exit code 2 on bad input).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.report.report_samples import REGISTRY, SECRETS, write_sample_run

from kongformance import cli
from kongformance.report import build_report, load_report, main, render_html
from kongformance.report.model import VERDICTS
from kongformance.requirements import FLOWS, LEVELS

EXPECTED_VERDICTS = {
    "R-MUST-pass": "conforms",
    "R-MUST-fail": "fails",
    "R-SHOULD-fail": "fails",
    "R-KONG-error": "fails",
    "R-skip": "skipped",
    "R-xfail": "xfail",
    "R-dev": "deviation",
    "R-dev-other": "conforms",
    "R-uncovered": "not-covered",
}
VOID = {"meta", "br", "input", "img", "hr", "link"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_run(tmp_path_factory.mktemp("run")).reports


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    report = load_report(run_dir, {"target": "local", "kong_version": "3.15"}, REGISTRY)
    return render_html(report, "2026-01-01 00:00:00 UTC")


class _Rows(HTMLParser):
    """Collects the matrix rows' attributes and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: dict[str, dict[str, str]] = {}
        self.errors: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "req" in a.get("class", "").split():
            self.rows[a["id"].removeprefix("req-")] = a
        if (tag == "script" and "src" in a) or tag == "link" or (tag == "img" and "src" in a):
            self.external.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def _parse(page: str) -> _Rows:
    parser = _Rows()
    parser.feed(page)
    parser.close()
    return parser


def test_gives_every_requirement_one_row_with_its_verdict(page: str) -> None:
    """7.6: requirement -> tests -> verdict, one row per catalogue requirement."""
    rows = _parse(page).rows
    assert {rid: a["data-verdict"] for rid, a in rows.items()} == EXPECTED_VERDICTS


def test_colours_failures_by_level(page: str) -> None:
    """h11: MUST and KONG failures red, SHOULD failures amber."""
    rows = _parse(page).rows
    assert "sev-red" in rows["R-MUST-fail"]["class"] and "sev-red" in rows["R-KONG-error"]["class"]
    assert "sev-amber" in rows["R-SHOULD-fail"]["class"]
    assert '<div class="banner red">2 MUST/KONG requirement(s) fail and 1 SHOULD' in page


def test_rows_carry_the_values_the_filters_use(page: str) -> None:
    """h11: filterable by level and verdict (and flow) with inline JS."""
    parser = _parse(page)
    for attrs in parser.rows.values():
        assert attrs["data-level"] in LEVELS and attrs["data-verdict"] in VERDICTS
        assert set(attrs["data-flows"].split()) <= set(FLOWS)
    for control in ('id="f-level"', 'id="f-verdict"', 'id="f-flow"', 'id="f-text"', 'id="matrix"'):
        assert control in page
    assert 'getElementById("f-level")' in page and "aria-sort" in page


def test_is_one_well_formed_self_contained_page(page: str) -> None:
    """h11: one self-contained HTML file, no external assets, readable offline."""
    parser = _parse(page)
    assert parser.errors == [] and parser.stack == []
    assert parser.external == []
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?https?:", page)
    assert page.count("<style>") == 1 and page.count("<script>") == 1


def test_never_writes_a_planted_secret(page: str) -> None:
    """7.9: tokens, client secrets, Basic credentials and kpat_ tokens are redacted everywhere."""
    for secret in SECRETS:
        assert secret not in page
    assert "client_secret=[redacted " in page and "kpat_[redacted " in page and "[redacted JWT " in page


def test_shows_each_failure_with_its_message_and_requirements(page: str) -> None:
    """h11: per failing test the failure message (redacted, still useful)."""
    failures = page[page.index('<section id="failures">') :]
    assert "Failures (3)" in failures
    assert (
        "AssertionError: expected 401 for {&#x27;Authorization&#x27;: &#x27;Bearer [redacted JWT" in failures
    )
    assert "failed on setup with &quot;RuntimeError: issuer down; sent client_secret=[redacted " in failures
    assert 'href="#req-R-MUST-fail"' in failures


def test_lists_uncovered_requirements(page: str) -> None:
    """h11: the list of uncovered requirements."""
    uncovered = page[page.index('<section id="uncovered">') : page.index('<section id="deviations">')]
    assert (
        "Uncovered requirements (1)" in uncovered and "R-uncovered" in uncovered and "R-skip" not in uncovered
    )


def test_records_a_deviation_with_the_kong_version_and_note(page: str) -> None:
    """7.6 / issue 4 Deliver 4: deviations keyed to Kong version, with their note."""
    row = page[page.index('id="req-R-dev"') :]
    row = row[: row.index("</tr>")]
    assert "dev-recorded" in row and "Kong &gt;=3.0; this run: Kong 3.15" in row
    assert "sends invalid_token without a token" in row
    assert "dev-recorded" not in page[page.index('id="req-R-dev-other"') :].split("</tr>")[0]


def test_shows_skip_and_xfail_reasons(page: str) -> None:
    """h11: skipped with the reason."""
    assert "needs a consumer; admin token kpat_[redacted " in page
    assert "jwt challenge not implemented" in page


def test_summarises_the_run(page: str) -> None:
    """h11: target, Kong version, date, duration, counts passed / failed / skipped / deviations / xfail."""
    header = page[: page.index('<section id="matrix-section">')]
    assert "<dt>Target</dt><dd>local</dd>" in header and "<dt>Kong version</dt><dd>3.15</dd>" in header
    assert re.search(r"<dt>Started</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</dd>", header)
    for n, label in [
        (3, "passed"),
        (2, "failed"),
        (1, "errors"),
        (1, "skipped"),
        (1, "deviations"),
        (1, "xfail"),
    ]:
        assert f'<span class="n">{n}</span>{label}</div>' in header


def test_links_every_source_to_its_public_page(page: str) -> None:
    """7.6 and issue 11 Deliver 4: each source is a link a reader can open (RFC section, Kong docs anchor)."""
    assert '<a href="https://www.rfc-editor.org/rfc/rfc6750#section-3.1">RFC 6750 3.1</a>' in page
    assert (
        '<a href="https://developer.konghq.com/plugins/upstream-oauth/#caching">'
        "Kong docs: upstream-oauth, caching</a>" in page
    )


def test_allure_results_give_the_same_verdicts_as_junit(tmp_path: Path, run_dir: Path) -> None:
    """issue 4 Deliver 7: the report builds on either result format."""
    only_allure = tmp_path / "reports"
    shutil.copytree(run_dir, only_allure)
    (only_allure / "junit.xml").unlink()
    report = load_report(only_allure, registry=REGISTRY)
    assert {r.requirement.id: r.verdict for r in report.rows} == EXPECTED_VERDICTS


def test_names_test_requirements_the_catalogue_lacks(tmp_path: Path, run_dir: Path) -> None:
    """Without the run's coverage JSON the shipped catalogue is used; foreign IDs are reported, not lost."""
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(run_dir / "junit.xml", reports / "junit.xml")
    report = load_report(reports)
    assert "R-MUST-fail" in report.unknown_requirements
    assert "Tests name requirements the catalogue lacks" in render_html(report, "now")


def test_escapes_markup_in_results(tmp_path: Path) -> None:
    """Bad input never breaks the page: result text is escaped."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "junit.xml").write_text(
        '<testsuite><testcase classname="suites.test_x" name="test_a[&lt;/pre&gt;&lt;script&gt;]">'
        '<properties><property name="requirement" value="GUARD-unauthenticated-rejected"/></properties>'
        '<failure message="&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</failure></testcase></testsuite>',
        "utf-8",
    )
    out = render_html(load_report(reports), "now")
    assert "<script>alert" not in out and "&lt;script&gt;alert(1)" in out
    parser = _parse(out)
    assert parser.errors == [] and parser.rows["GUARD-unauthenticated-rejected"]["data-verdict"] == "fails"


def test_build_report_writes_compliance_html_in_the_reports_dir(tmp_path: Path, run_dir: Path) -> None:
    """reports/README.md: compliance.html beside the results; build_report is what the runner calls."""
    reports = tmp_path / "reports"
    shutil.copytree(run_dir, reports)
    path = build_report(reports, target="docker", kong_version="3.10")
    assert path == reports / "compliance.html"
    text = path.read_text("utf-8")
    assert "<dt>Target</dt><dd>docker</dd>" in text and all(s not in text for s in SECRETS)


def _args(reports: Path, output: Path | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    from kongformance.report import add_arguments

    add_arguments(parser)
    argv = ["--reports-dir", str(reports)] + (["--output", str(output)] if output else [])
    return parser.parse_args(argv)


def test_command_writes_the_report_and_exits_0(
    tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """h11: `kongformance report [--reports-dir reports] [--output reports/compliance.html]`."""
    out = tmp_path / "site" / "index.html"
    assert cli.main(["report", "--reports-dir", str(run_dir), "--output", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "setup, fragment",
    [
        (lambda d: None, "no reports directory at"),
        (lambda d: d.mkdir(), "no results in"),
        (
            lambda d: (d.mkdir(), (d / "junit.xml").write_text("<testsuite", "utf-8")),
            "not readable JUnit XML",
        ),
        (
            lambda d: (d.mkdir(), (d / "requirements-coverage.json").write_text("{nope", "utf-8")),
            "malformed JSON",
        ),
    ],
)
def test_command_exits_2_with_one_line_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: Callable[[Path], object], fragment: str
) -> None:
    """h11: missing reports dir, malformed XML/JSON: a clear one-line error and exit code 2, no traceback."""
    reports = tmp_path / "reports"
    setup(reports)
    assert main(_args(reports)) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (reports / "compliance.html").exists()


def test_command_exits_2_when_the_output_cannot_be_written(
    tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """h11: bad input gives exit code 2, never a traceback (the output path is a directory)."""
    blocked = tmp_path / "out"
    blocked.mkdir()
    assert main(_args(run_dir, blocked)) == 2
    assert "cannot write" in capsys.readouterr().err


REPO = Path(__file__).resolve().parents[2]


def test_builds_from_what_a_real_suite_run_writes(tmp_path: Path) -> None:
    """issue 4 Deliver 7 / reports/README.md: the report reads the files the suite's pytest plugin writes."""
    reports = tmp_path / "reports"
    cmd = [sys.executable, "-m", "pytest", "suites/test_guard.py", "-q", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [*cmd, f"--kf-reports={reports}"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert (reports / "junit.xml").is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    report = load_report(reports)
    guard = next(r for r in report.rows if r.requirement.id == "GUARD-unauthenticated-rejected")
    assert guard.tests and all(t.nodeid.startswith("suites/test_guard.py::") for t in guard.tests)
    expected = "conforms" if run.returncode == 0 else "fails"
    assert guard.verdict == expected
    page = build_report(reports).read_text("utf-8")
    assert 'id="req-GUARD-unauthenticated-rejected"' in page
    # the run facts show the API calls the terminal summary and the coverage JSON count, in the same words
    terminal = re.search(r"API calls this run: (.+)", run.stdout)
    assert terminal is not None, run.stdout[-2000:]
    assert f"<dt>API calls</dt><dd>{terminal.group(1).strip()}</dd>" in page
    calls = json.loads((reports / "requirements-coverage.json").read_text("utf-8"))["run"]["api_calls"]
    assert calls["total"] > 0 and f"<dd>{calls['total']} (" in page
