"""Collection checks of suite tests (the pytest plugin runs them): each names requirements the catalogue
knows, runs on a flow they apply to and keeps credentials out of its id and parameters (test ids are written
before any report exists, so redaction cannot reach them); the requirement IDs and the flow become the test's
JUnit properties and allure label."""

from __future__ import annotations

import pytest

from kongformance.report.at_source import usage_error
from kongformance.report.redaction import redact
from kongformance.requirements import FLOWS, Catalogue


def check_and_label(catalogue: Catalogue, items: list[pytest.Item]) -> None:
    """Check every suite test (a usage error lists them all) and give it its JUnit properties and allure
    label: ``requirement`` per ID, ``flow`` (the flow the report counts it on) when it names one."""
    errors: list[str] = []
    for item in items:
        ids = [str(a) for m in item.iter_markers("requirement") for a in m.args]
        if not ids:
            errors.append(f"{item.nodeid}: no @pytest.mark.requirement(...)")
            continue
        unknown = catalogue.unknown(ids)
        if unknown:
            errors.append(f"{item.nodeid}: unknown requirement id(s) {', '.join(unknown)}")
            continue
        flow = flow_of(item)
        off = catalogue.off_flow(ids, flow) if flow else []
        if off:
            errors.append(f"{item.nodeid}: runs on flow {flow!r}, which the flows: of {', '.join(off)} omit")
            continue
        if carries_a_credential(item):
            errors.append(
                f"{item.nodeid}: its id or a parameter looks like a credential and would reach the reports "
                "unredacted; parametrize by a name and look the value up in the test"
            )
            continue
        for rid in dict.fromkeys(ids):
            item.user_properties.append(("requirement", rid))
        if flow:  # the flow the report counts the test on (JUnit property flow)
            item.user_properties.append(("flow", flow))
        item.add_marker(pytest.mark.allure_label(*dict.fromkeys(ids), label_type="requirement"))
    if errors:
        raise usage_error(
            "kongformance: suite tests must name known requirements and keep credentials out of their ids:\n  "
            + "\n  ".join(errors)
        )


def flow_of(item: pytest.Item) -> str | None:
    """The catalogue flow a suite test runs on: ``@pytest.mark.flow(name)``, else a parametrized flow object
    (one with a ``name`` the catalogue knows), else the module's ``FLOW`` constant; None when it names none."""
    mark = item.get_closest_marker("flow")
    if mark is not None and mark.args:
        return str(mark.args[0])
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec is not None else ():
        name = getattr(value, "name", None)
        if isinstance(name, str) and name in FLOWS:
            return name
    flow = getattr(getattr(item, "module", None), "FLOW", None)
    return flow if isinstance(flow, str) and flow in FLOWS else None


def carries_a_credential(item: pytest.Item) -> bool:
    """Whether the test id or a parametrized value (both go into JUnit XML and allure results as they are)
    holds something the report redaction would hide: a token, secret or Authorization credential."""
    callspec = getattr(item, "callspec", None)
    values = [repr(v) for v in callspec.params.values()] if callspec is not None else []
    return any(redact(text) != text for text in [item.nodeid, *values])
