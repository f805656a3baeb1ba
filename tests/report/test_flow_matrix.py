"""Issue 11, Deliver 3: the flow x requirement matrix tells the truth.

One row per requirement, one cell per flow it applies to with its verdict on that flow; "all bearer flows"
rows belong to every bearer flow; one definition of a deviation for the terminal, the JSON and the HTML.
"""

from __future__ import annotations

from html.parser import HTMLParser

from kongformance.deviations import Deviation, DeviationRegistry
from kongformance.report import flows
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
