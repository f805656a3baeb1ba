"""Requirements the target could not check are shown as such: the verdict "unchecked (lacks capability X)"
per requirement and per flow cell, counted alike by the terminal summary, the coverage JSON and the HTML
report (issue 9 Deliver 1 fail-closed accounting, issue 11 Deliver 3 one definition everywhere); so are
requirements observed *open* (Kong's behaviour unknown: recorded, never credited)."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from xml.sax.saxutils import escape

from kongformance.report import build_report
from kongformance.report.model import TestResult, lacking, unchecked_label, verdict_of
from kongformance.requirements import Coverage, parse_catalogue
from kongformance.run_checks import DEPARTURE, RunChecks, lacks_reason

SOURCE = [{"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}]
CATALOGUE = parse_catalogue(
    {
        "requirements": [
            {"id": rid, "statement": "s", "source": SOURCE, "level": "MUST", "flows": flows}
            for rid, flows in [
                ("R-db", ["oauth2"]),  # its only test needs a database the target lacks
                ("R-clock", ["oidc-bearer", "oauth2-introspection"]),  # checked on one flow, not the other
                ("R-skip", ["jwt"]),  # skipped for another reason: skipped, not unchecked
                ("R-departure", ["jwt"]),  # a test ran but a recorded departure let its request through
                ("R-ok", ["jwt"]),
                ("R-open", ["jwt"]),  # observed open: not credited
            ]
        ]
    }
)
NO_DB = lacks_reason(["db"], target="local")
NO_CLOCK = lacks_reason(["virtual_clock"], target="konnect")
# node id, requirements, outcome, skip reason, unchecked entries ("<requirement> <why>"), open entries
RUN = [
    ("suites/test_x.py::test_db", ["R-db"], "skipped", NO_DB, [], []),
    ("suites/test_x.py::test_clock[oidc-bearer]", ["R-clock"], "passed", "", [], []),
    ("suites/test_x.py::test_clock[oauth2-introspection]", ["R-clock"], "skipped", NO_CLOCK, [], []),
    ("suites/test_jwt.py::test_skip", ["R-skip"], "skipped", "upstream down", [], []),
    (
        "suites/test_jwt.py::test_departure",
        ["R-departure", "R-ok"],
        "passed",
        "",
        ["R-departure see dev"],
        [],
    ),
    ("suites/test_jwt.py::test_open", ["R-open", "R-ok"], "passed", "", [], ["R-open jwt: 200 (see dev)"]),
]


def _t(outcome: str, message: str = "") -> TestResult:
    return TestResult("suites/test_x.py::t", outcome, ("R",), (), message)


def test_a_requirement_whose_tests_all_lack_a_capability_is_unchecked() -> None:
    assert verdict_of("R", [_t("skipped", NO_DB)], {}) == "unchecked"
    assert verdict_of("R", [_t("skipped", NO_DB), _t("skipped", NO_CLOCK)], {}) == "unchecked"
    assert lacking([_t("skipped", NO_DB), _t("skipped", NO_CLOCK)]) == ("db", "virtual_clock")
    assert verdict_of("R", [_t("skipped", NO_DB), _t("skipped", "upstream down")], {}) == "skipped"
    assert verdict_of("R", [_t("skipped", NO_DB), _t("passed")], {}) == "conforms"
    assert verdict_of("R", [_t("skipped", NO_DB), _t("failed")], {}) == "fails"
    assert unchecked_label(("db",)) == "unchecked (lacks capability db)"
    assert unchecked_label(("db", DEPARTURE)) == (
        "unchecked (lacks capability db; a recorded departure let its request through)"
    )


def _junit() -> str:
    """RUN as pytest's JUnit XML writes it (skip reasons included)."""
    cases = ""
    for nodeid, ids, outcome, reason, unchecked, opens in RUN:
        module, _, name = nodeid.partition("::")
        props = "".join(f'<property name="requirement" value="{r}"/>' for r in ids)
        props += "".join(f'<property name="unchecked" value="{escape(u)}"/>' for u in unchecked)
        props += "".join(f'<property name="open" value="{escape(o)}"/>' for o in opens)
        skipped = f'<skipped type="pytest.skip" message="{escape(reason)}"/>' if outcome == "skipped" else ""
        classname = module.removesuffix(".py").replace("/", ".")
        cases += f'<testcase classname="{classname}" name="{escape(name)}" time="0.1">'
        cases += f"<properties>{props}</properties>{skipped}</testcase>"
    return f'<testsuites><testsuite name="pytest" tests="{len(RUN)}">{cases}</testsuite></testsuites>'


def _write_run(reports: Path) -> tuple[Coverage, str]:
    """The coverage JSON the plugin writes for RUN, and the terminal's status line."""
    reports.mkdir(parents=True)
    cov = Coverage(CATALOGUE, run={"target": "local", "run_id": "unchecked"}, departs={})
    checks = RunChecks(CATALOGUE)
    for nodeid, ids, outcome, reason, unchecked, opens in RUN:
        cov.add_collected(nodeid, ids)
        open_ = {o.split(" ", 1)[0]: o for o in opens}
        cov.add_outcome(nodeid, ids, outcome, unchecked=[u.split(" ", 1)[0] for u in unchecked], open_=open_)
        checks.record(nodeid, ids, outcome, reason, unchecked)
    cov.run["unchecked_on_target"] = checks.unchecked_here()
    cov.write(reports / "requirements-coverage.json")
    (reports / "junit.xml").write_text(_junit(), "utf-8")
    statuses = Counter(cov.status(rid) for rid in CATALOGUE.requirements)
    return cov, ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.cells: dict[tuple[str, str], str] = {}
        self.row = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "req" in a.get("class", "").split():
            self.row = a["id"].removeprefix("req-")
            self.rows[self.row] = a["data-verdict"]
        if tag == "td" and "data-flow" in a:
            self.cells[(self.row, a["data-flow"])] = a.get("title", "")


def test_an_open_observation_is_never_credited() -> None:
    observed = TestResult("suites/test_x.py::t", "passed", ("R", "S"), (), "", opens=("R",))
    assert verdict_of("R", [observed], {}) == "open" and verdict_of("S", [observed], {}) == "conforms"
    ran = TestResult("suites/test_x.py::t", "passed", ("R",), (), "", unchecked=("R",))
    assert verdict_of("R", [ran], {}) == "unchecked"  # it ran, but could not check R here


def test_terminal_json_and_html_count_the_same_unchecked_requirements(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    cov, terminal = _write_run(reports)
    assert terminal == "1 open, 2 passed, 1 skipped, 2 unchecked"
    doc = json.loads((reports / "requirements-coverage.json").read_text("utf-8"))
    assert doc["run"]["unchecked_on_target"] == {"R-db": ["db"], "R-departure": [DEPARTURE]}
    json_unchecked = {r["id"] for r in doc["requirements"] if r["status"] == "unchecked"}
    page = build_report(reports).read_text("utf-8")
    parser = _Cells()
    parser.feed(page)
    html_unchecked = {rid for rid, verdict in parser.rows.items() if verdict == "unchecked"}
    # R-clock: checked on oidc-bearer, so it is not unchecked; its oauth2-introspection cell is
    assert json_unchecked == html_unchecked == {"R-db", "R-departure"}
    assert '<span class="n">2</span>unchecked</div>' in page
    assert parser.rows["R-skip"] == "skipped" and parser.rows["R-clock"] == "conforms"
    assert parser.rows["R-ok"] == "conforms"  # the test that left R-departure unchecked passed
    json_open = {r["id"] for r in doc["requirements"] if r["status"] == "open"}
    html_open = {rid for rid, verdict in parser.rows.items() if verdict == "open"}
    assert json_open == html_open == {"R-open"} and '<span class="n">1</span>open</div>' in page
    assert parser.cells[("R-db", "oauth2")] == "oauth2: unchecked (lacks capability db)"
    assert parser.cells[("R-clock", "oauth2-introspection")] == (
        "oauth2-introspection: unchecked (lacks capability virtual_clock)"
    )
    assert "unchecked (a recorded departure let its request through)" in page
    assert "unchecked (lacks capability db)</span>" in page  # the requirement's own verdict badge
