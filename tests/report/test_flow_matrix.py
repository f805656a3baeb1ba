"""Issue 11, Deliver 3: the flow x requirement matrix tells the truth.

One row per requirement, one cell per flow it applies to with its verdict on that flow; "all bearer flows"
rows belong to every bearer flow; one definition of a deviation for the terminal, the JSON and the HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kongformance.deviations import Deviation, DeviationRegistry
from kongformance.report import flows, load_report
from kongformance.report.assemble import _report
from kongformance.report.model import ComplianceReport, RunInfo, TestResult, verdict_of
from kongformance.report.render import render_html
from kongformance.requirements import Coverage, parse_catalogue
from kongformance.sources import Source

CATALOGUE = parse_catalogue(
    {
        "requirements": [
            {
                "id": "R-all",
                "statement": "s",
                "source": [
                    {"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}
                ],
                "level": "MUST",
                "flows": ["all"],
            },
            {
                "id": "R-two",
                "statement": "s",
                "source": [
                    {"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}
                ],
                "level": "MUST",
                "flows": ["oidc-bearer", "oauth2-introspection"],
            },
            {
                "id": "R-dev",
                "statement": "s",
                "source": [
                    {"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}
                ],
                "level": "SHOULD",
                "flows": ["oidc-bearer"],
            },
        ]
    }
)
REGISTRY = DeviationRegistry(
    [
        Deviation(
            "dev-1",
            "R-dev",
            ("oidc-bearer",),
            "",
            "Kong does x",
            (Source("x", "https://developer.konghq.com/x"),),
        )
    ]
)


def _t(nodeid: str, outcome: str, reqs: tuple[str, ...], devs: tuple[str, ...] = ()) -> TestResult:
    return TestResult(nodeid=nodeid, outcome=outcome, requirements=reqs, deviations=devs)


TESTS = [
    _t("suites/test_negative_transport.py::test_x[oidc-bearer-Basic]", "passed", ("R-all",)),
    _t("suites/test_negative_transport.py::test_x[oauth2-introspection-Basic]", "failed", ("R-all",)),
    _t("suites/test_oauth2_introspection.py::test_y", "passed", ("R-two",)),
    _t("suites/test_openid_connect_bearer.py::test_z", "passed", ("R-two", "R-dev"), ("dev-1",)),
]


def _report_() -> ComplianceReport:
    return _report(CATALOGUE, TESTS, RunInfo(target="local"), REGISTRY)


def test_a_tests_flow_comes_from_its_parameter_id_or_its_module() -> None:
    assert flows.test_flow("suites/a.py::t[oidc-introspection-jwk]") == "oidc-introspection"
    assert flows.test_flow("suites/a.py::t[oidc-bearer]") == "oidc-bearer"
    assert flows.test_flow("suites/test_oauth2_introspection.py::t[x]") == "oauth2-introspection"
    assert flows.test_flow("suites/test_openid_connect_introspection.py::t") == "oidc-introspection"
    assert flows.test_flow("suites/test_gateway_routing.py::t[http]") is None


def test_each_cell_is_the_verdict_on_that_flow() -> None:
    rows = {r.requirement.id: r for r in _report_().rows}
    report = _report_()
    all_cells = flows.cells(rows["R-all"], report.departs)
    assert all_cells["oidc-bearer"] == "conforms" and all_cells["oauth2-introspection"] == "fails"
    assert all_cells["oidc-kong-oauth2"] == "not-covered"
    assert set(all_cells) == set(flows.BEARER_FLOWS)
    two = flows.cells(rows["R-two"], report.departs)
    assert two == {"oidc-bearer": "conforms", "oauth2-introspection": "conforms"}


class _Matrix(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.cells: dict[str, dict[str, str]] = {}
        self.current = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "req" in a.get("class", "").split():
            self.current = a["id"].removeprefix("req-")
            self.rows[self.current] = a
        if tag == "td" and "data-flow" in a:
            self.cells.setdefault(self.current, {})[a["data-flow"]] = a["data-cell"]


def test_the_page_keeps_all_bearer_flow_rows_under_each_bearer_flow() -> None:
    page = render_html(_report_(), "now")
    parser = _Matrix()
    parser.feed(page)
    assert set(parser.rows) == {"R-all", "R-two", "R-dev"}
    for flow in flows.BEARER_FLOWS:
        assert flow in parser.rows["R-all"]["data-flows"].split()
    assert parser.cells["R-all"]["oauth2-introspection"] == "fails"
    assert '<section id="flows">' in page and 'id="f-counts"' in page


def test_one_definition_of_a_deviation_for_terminal_json_and_html() -> None:
    """A passing test's deviation counts only against the requirement it departs from, everywhere."""
    cov = Coverage(CATALOGUE, departs={"dev-1": "R-dev"})
    for t in TESTS:
        cov.add_collected(t.nodeid, t.requirements)
        cov.add_outcome(t.nodeid, t.requirements, t.outcome, t.deviations)
    html_verdicts = {r.requirement.id: r.verdict for r in _report_().rows}
    assert cov.status("R-dev") == "deviation" and html_verdicts["R-dev"] == "deviation"
    assert cov.status("R-two") == "passed" and html_verdicts["R-two"] == "conforms"
    assert verdict_of("R-two", [TESTS[3]], {"dev-1": "R-dev"}) == "conforms"


def test_a_recorded_flow_wins_over_inference() -> None:
    """A test marked @pytest.mark.flow(name) is counted on that flow, whatever its id says."""
    req = CATALOGUE["R-two"]
    marked = TestResult(
        nodeid="suites/test_x.py::t", outcome="failed", requirements=("R-two",), flow="oidc-bearer"
    )
    assert flows.by_flow(req, [marked]) == {"oidc-bearer": [marked]}


def test_a_guessed_flow_yields_to_the_requirements_only_flow() -> None:
    """The guard's tests run on every flow's route ([jwt-base64]) yet check the guard requirement: its guard
    cell holds their verdict, not "no test"."""
    guard = parse_catalogue(
        {
            "requirements": [
                {
                    "id": "GUARD-x",
                    "statement": "s",
                    "source": [CATALOGUE["R-all"].source[0].to_json()],
                    "level": "KONG",
                    "flows": ["guard"],
                }
            ]
        }
    )
    tests = [
        _t("suites/test_guard.py::test_rejects[jwt-base64]", "passed", ("GUARD-x",)),
        _t("suites/test_guard.py::test_rejects[oidc-bearer]", "passed", ("GUARD-x",)),
    ]
    report = _report(guard, tests, RunInfo(target="local"), REGISTRY)
    assert flows.cells(report.rows[0], report.departs) == {"guard": "conforms"}
    assert flows.test_flow("suites/test_kong_oauth2_grants.py::t") == "oauth2"  # Kong's oauth2 plugin


def test_a_flow_without_a_test_says_so_instead_of_a_verdict() -> None:
    page = render_html(_report_(), "now")
    cell = page[page.index('data-flow="oidc-kong-oauth2" data-cell="not-covered"') :]
    cell = cell[: cell.index("</td>")]
    assert "no test of this run checked it on this flow" in cell and ">no test<" in cell
    assert ">none<" not in page


SUITE = """
import pytest

FLOW = "jwt"

@pytest.mark.requirement("KONG-JWT-5-missing")
def test_x():
    pass
"""


def test_the_plugin_records_the_flow_of_the_module(pytester: pytest.Pytester) -> None:
    """A module's FLOW (as the plugin checks it at collection) is the test's flow in the results."""
    pytester.mkdir("suites")
    (pytester.path / "suites" / "test_anything.py").write_text(SUITE)
    result = pytester.runpytest_subprocess(
        "suites", "--kf-reports", str(pytester.path / "out"), "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stdout.str()[-2000:]
    report = load_report(pytester.path / "out")
    (test,) = [t for t in report.tests if t.nodeid.endswith("test_x")]
    assert test.flow == "jwt"
