"""issue 11 Deliver 6: drift between two runs (``kongformance report --compare A B``) and each run's verdicts
kept in reports/history.jsonl, shown per requirement as its last verdicts and a flip count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kongformance import cli
from kongformance.report import build_report
from kongformance.report.history import HISTORY, flips, history_html, load, timelines
from kongformance.requirements import Coverage, load_catalogue

CAT = load_catalogue()
RIDS = list(CAT.requirements)[:6]
DEV = "oidc-ignores-crit"  # departs from RFC7515-4.1.11-crit


def write_run(
    reports: Path, run_id: str, outcomes: dict[str, str], devs: dict[str, list[str]] | None = None
) -> Path:
    """A run's coverage JSON: one test per requirement with the given outcome (default passed)."""
    cov = Coverage(CAT, run={"target": "local", "kong_version": "3.15", "run_id": run_id})
    for rid in [*RIDS, "RFC7515-4.1.11-crit"]:
        nodeid = f"suites/test_x.py::test_{rid}"
        cov.add_collected(nodeid, [rid])
        cov.add_outcome(nodeid, [rid], outcomes.get(rid, "passed"), (devs or {}).get(rid, []))
    reports.mkdir(parents=True, exist_ok=True)
    cov.write(reports / "requirements-coverage.json")
    return reports / "requirements-coverage.json"


def test_compare_names_changed_verdicts_and_new_and_vanished_deviations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_run(tmp_path / "a", "run-a", {RIDS[1]: "failed"}, {"RFC7515-4.1.11-crit": [DEV]})
    write_run(tmp_path / "b", "run-b", {RIDS[0]: "failed"})
    code = cli.main(["report", "--compare", str(a), str(tmp_path / "b")])  # a file and a directory
    out = capsys.readouterr().out
    assert code == 1  # RIDS[0] regressed
    assert "verdicts that changed: 3" in out
    assert f"{RIDS[0]}" in out and "conforms -> fails" in out and "fails -> conforms" in out
    assert "deviation -> conforms" in out
    assert "new deviations (in B, not A): 0" in out
    assert f"vanished deviations (in A, not B): 1\n  {DEV} (departs from RFC7515-4.1.11-crit)" in out
    assert "run run-a" in out and "run run-b" in out


def test_compare_of_identical_runs_reports_no_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_run(tmp_path / "a", "run-a", {RIDS[2]: "failed"})
    b = write_run(tmp_path / "b", "run-b", {RIDS[2]: "failed"})
    assert cli.main(["report", "--compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "verdicts that changed: 0" in out and "fail in B" not in out


@pytest.mark.parametrize("bad", ["missing-dir", "not-json"])
def test_compare_with_bad_input_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    a = write_run(tmp_path / "a", "run-a", {})
    b = tmp_path / "missing"
    if bad == "not-json":
        b = tmp_path / "b.json"
        b.write_text("{not json", "utf-8")
    assert cli.main(["report", "--compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kongformance report: ")


def test_each_run_is_kept_once_and_the_report_shows_last_verdicts_and_flips(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    for n, outcome in enumerate(["passed", "failed", "passed", "passed"]):
        write_run(reports, f"run-{n}", {RIDS[0]: outcome})
        page = build_report(reports).read_text("utf-8")
    build_report(reports)  # the same run again: no second line
    history = load(reports / HISTORY)
    assert [e["run_id"] for e in history] == ["run-0", "run-1", "run-2", "run-3"]
    assert {e["target"] for e in history} == {"local"} and all(e["kong_version"] == "3.15" for e in history)
    assert timelines(history)[RIDS[0]] == ["conforms", "fails", "conforms", "conforms"]
    assert '<span class="badge flaky">2 flips</span>' in page
    assert 'title="last 4 runs, oldest first: conforms, fails, conforms, conforms"' in page
    assert page.count("badge flaky") == 1  # the steady requirements show no flips


def test_history_keeps_the_last_n_and_skips_lines_that_are_not_runs(tmp_path: Path) -> None:
    path = tmp_path / HISTORY
    lines = [
        json.dumps({"run_id": str(n), "verdicts": {"R": "fails" if n % 2 else "conforms"}}) for n in range(15)
    ]
    path.write_text("\n".join([*lines[:3], "garbage", "[]", *lines[3:]]) + "\n", "utf-8")
    runs = load(path)
    assert len(runs) == 15
    last = timelines(runs, n=10)["R"]
    assert len(last) == 10 and flips(last) == 9
    assert history_html(["conforms"]) == ""  # one run: nothing to compare
