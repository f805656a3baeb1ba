"""A run's facts for the reports and the terminal: target, Kong version (and where it was read), API calls,
requirements left unchecked on the target, and why a run fails closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kongformance.clients import polite
from kongformance.requirements import Coverage
from kongformance.run_checks import RunChecks
from kongformance.targets import Stack


def opening_facts(config: pytest.Config, target: str, stack: Stack | None) -> dict[str, str]:
    """Target and Kong version: the stack's (read from the gateway where the target can), else as given."""
    facts = {"target": target}
    if stack is not None:
        facts["kong_version"] = stack.kong_version
        if stack.kong_version_source:
            facts["kong_version_source"] = stack.kong_version_source
    else:
        facts["kong_version"] = str(
            config.getoption("kf_kong_version") or "not read (no test needed the target)"
        )
    return facts


def record(config: pytest.Config, coverage: Coverage, target: str, stack: Stack | None) -> None:
    """The opening facts as JUnit suite properties, allure environment and coverage ``run``."""
    from datetime import UTC, datetime

    from _pytest.junitxml import xml_key

    facts = opening_facts(config, target, stack)
    coverage.run.update(facts, started=datetime.now(UTC).isoformat())
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        for name, value in facts.items():
            xml.add_global_property(f"kongformance.{name}", value)
    allure_dir = getattr(config.option, "allure_report_dir", None)
    if allure_dir:
        Path(allure_dir).mkdir(parents=True, exist_ok=True)
        lines = [f"kongformance.{k}={v}" for k, v in facts.items()]
        (Path(allure_dir) / "environment.properties").write_text("\n".join(lines) + "\n", "utf-8")


def closing_facts(checks: RunChecks, verdict: list[str]) -> dict[str, Any]:
    """API calls (by API, and how many answered 429), unchecked requirements, and the fail-closed verdict."""
    return {
        "api_calls": polite.API_CALLS.summary(),
        "unchecked_on_target": checks.unchecked_here(),
        "verdict": list(verdict),
    }


def summarize(tr: Any, checks: RunChecks, verdict: list[str], stack: Stack | None, target: str) -> None:
    """Terminal summary lines: unchecked requirements with the capability they lack, API calls, warnings
    (such as a Kong version that disagrees with the gateway's), and why the run fails closed."""
    unchecked = checks.unchecked_here()
    if unchecked:
        items = [f"{rid} (needs {', '.join(caps)})" for rid, caps in unchecked.items()]
        tr.write_line(f"requirements left unchecked on target {target} ({len(items)}): " + ", ".join(items))
    tr.write_line(f"API calls this run: {polite.describe_calls(polite.API_CALLS.summary())}")
    if stack is not None:
        source = f" (from {stack.kong_version_source})" if stack.kong_version_source else ""
        tr.write_line(f"Kong version: {stack.kong_version}{source}")
        for warning in stack.warnings:
            tr.write_line(warning, yellow=True)
    for problem in verdict:
        tr.write_line(f"kongformance: run fails closed: {problem}", red=True, bold=True)
