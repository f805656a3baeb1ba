"""Verdicts per flow: which flow each test exercised, and each requirement's verdict on each flow.

A requirement applies to the flows the catalogue gives it; ``all`` means every bearer flow
(:data:`BEARER_FLOWS`). A test's flow is the one its results
record (JUnit property ``flow``: the plugin's, from ``@pytest.mark.flow(name)``, a flow parameter or the
module's ``FLOW``), else the flow named at the start of its parameter id
(``[oidc-introspection-jwk]``), else the flow its module is about (``test_oauth2_introspection.py``); a flow
guessed from a name that the requirement does not apply to, or none, yields to the requirement's flow when it
has only one (the guard's tests run on every flow's route, yet check the ``guard`` requirement); otherwise the
test is counted under :data:`UNNAMED`. A cell's verdict uses the same rules as the requirement's (:func:`model.verdict_of`) on the
tests of that flow, so every count (terminal, JSON, HTML) rests on one definition.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from kongformance.report.model import RequirementVerdict, TestResult, verdict_of
from kongformance.requirements import FLOWS, Requirement

BEARER_FLOWS = ("oidc-bearer", "oidc-introspection", "oidc-kong-oauth2", "oauth2-introspection")
UNNAMED = "other"  # tests of a multi-flow requirement whose flow is not named anywhere
COLUMNS = tuple(f for f in FLOWS if f != "all") + (UNNAMED,)
# module name -> the flow it is about (first match wins)
_MODULE_FLOWS = (
    ("oauth2_introspection", "oauth2-introspection"),
    ("openid_connect_introspection", "oidc-introspection"),
    ("openid_connect_bearer", "oidc-bearer"),
    ("upstream_oauth", "upstream-oauth"),
    ("kong_oauth2", "oauth2"),  # test_kong_oauth2*.py: Kong's oauth2 plugin
    ("test_issuer", "issuer"),
    ("test_guard", "guard"),
    ("test_jwt", "jwt"),
)
_NAMED = sorted((f for f in FLOWS if f != "all"), key=len, reverse=True)


def applicable(req: Requirement) -> tuple[str, ...]:
    """The flows ``req`` applies to, ``all`` expanded to the bearer flows."""
    out: list[str] = []
    for flow in req.flows:
        out.extend(BEARER_FLOWS if flow == "all" else (flow,))
    return tuple(dict.fromkeys(out))


def test_flow(nodeid: str) -> str | None:
    """The flow a test names in its parameter id or module name (None: it names none)."""
    _, bracket, params = nodeid.partition("[")
    if bracket:
        for flow in _NAMED:
            if params == flow + "]" or params.startswith(flow + "-"):
                return flow
    module = re.sub(r"\.py$", "", nodeid.split("::", 1)[0].rsplit("/", 1)[-1])
    return next((flow for key, flow in _MODULE_FLOWS if key in module), None)


def by_flow(req: Requirement, tests: list[TestResult]) -> dict[str, list[TestResult]]:
    """``tests`` grouped by the flow each exercised (see the module docstring)."""
    flows = applicable(req)
    only = flows[0] if len(flows) == 1 else None
    out: dict[str, list[TestResult]] = {}
    for test in tests:
        inferred = test_flow(test.nodeid)
        if only is not None and inferred not in flows:  # guessed from a name: the catalogue knows better
            inferred = only
        flow = test.flow or inferred or UNNAMED
        out.setdefault(flow, []).append(test)
    return out


def cells(row: RequirementVerdict, departs: Mapping[str, str]) -> dict[str, str]:
    """Flow -> verdict of the requirement on that flow, for every flow it applies to or was tested on."""
    req = row.requirement
    grouped = by_flow(req, row.tests)
    flows = list(applicable(req)) + [f for f in grouped if f not in applicable(req)]
    out = {f: verdict_of(req.id, grouped.get(f, []), departs) for f in flows}
    if row.verdict == "unchecked":  # the run found no test that checked it: no cell credits it either
        out = {f: "unchecked" if v in ("conforms", "deviation", "skipped") else v for f, v in out.items()}
    return out


def flow_summary(rows: list[RequirementVerdict], departs: Mapping[str, str]) -> dict[str, Counter[str]]:
    """Per flow column, how many requirements have each verdict on it."""
    out: dict[str, Counter[str]] = {f: Counter() for f in COLUMNS}
    for row in rows:
        for flow, verdict in cells(row, departs).items():
            out.setdefault(flow, Counter())[verdict] += 1
    return {f: c for f, c in out.items() if sum(c.values())}
