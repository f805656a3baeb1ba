"""Failure evidence: what a failing check sent and got, what it expected, and the requirement it proves.

In the process that runs a test, every failing setup or call report gets:

- ``report.kf_evidence``: a JSON-ready dict (it crosses xdist with the report): the requirements with
  level and statement, the failure line (expected versus actual), the defects switched on for the run,
  and the last HTTP exchanges of the test (:mod:`kongformance.report.exchanges`, redacted, with the
  decoded claims of the tokens sent);
- a ``kongformance evidence`` section, shown by the terminal under the failure;
- the same JSON as an allure attachment named ``evidence``.

The process that writes reports collects them into ``reports/evidence.json`` (``{"run_id", "tests":
{nodeid: evidence}}``), which ``kongformance report`` shows on each failure card.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from kongformance.report import exchanges
from kongformance.report.redaction import redact
from kongformance.requirements import Catalogue
from kongformance.sources import sources_text

EXCHANGES_SHOWN = 3  # the last exchanges of a failing test kept as evidence
EVIDENCE_FILE = "evidence.json"


def failure_line(call: Any, report: pytest.TestReport) -> str:
    """The failure's one line (the assertion message: expected versus actual), redacted."""
    excinfo = getattr(call, "excinfo", None)
    if excinfo is not None:
        text = excinfo.exconly().strip()
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", "") or report.longrepr or "")
    first = text.split("\n", 1)[0]
    return redact(first[:2000])


def _telling(recorded: list[exchanges.Exchange]) -> list[exchanges.Exchange]:
    """The last exchanges with the gateway or the issuer (control-surface calls only when there is
    nothing else: moving the clock or reading a log says little about why a check failed)."""
    telling = [x for x in recorded if "/_emulator/" not in x.request.url.path]
    return (telling or recorded)[-EXCHANGES_SHOWN:]


def evidence_of(
    item: pytest.Item, call: Any, report: pytest.TestReport, catalogue: Catalogue | None, defects: list[str]
) -> dict[str, Any]:
    ids = list(dict.fromkeys(str(a) for m in item.iter_markers("requirement") for a in m.args))
    requirements = []
    for rid in ids:
        req = catalogue.requirements.get(rid) if catalogue is not None else None
        entry = {"id": rid}
        if req is not None:
            entry.update(level=req.level, statement=req.statement, source=sources_text(req.source))
        requirements.append(entry)
    return {
        "when": report.when,
        "requirements": requirements,
        "failure": failure_line(call, report),
        "defects": list(defects),
        "exchanges": [exchanges.describe(x) for x in _telling(exchanges.recorded())],
    }


def as_text(evidence: dict[str, Any]) -> str:
    lines = []
    for req in evidence["requirements"]:
        statement = f" {req['level']}: {req['statement']}" if "statement" in req else ""
        lines.append(f"requirement {req['id']}{statement}")
    lines.append(f"failure: {evidence['failure']}")
    if evidence["defects"]:
        lines.append(f"defects switched on for this run: {', '.join(evidence['defects'])}")
    for n, doc in enumerate(evidence["exchanges"], 1):
        lines.append(f"--- exchange {n} of {len(evidence['exchanges'])}")
        lines.append(exchanges.as_text(doc))
    if not evidence["exchanges"]:
        lines.append("(no HTTP exchange recorded)")
    return "\n".join(lines)


def _attach_to_allure(body: str) -> None:
    try:
        import allure

        allure.attach(body, name="evidence", attachment_type=allure.attachment_type.JSON)
    except Exception:  # allure not writing: nothing to attach to
        pass


class FailureEvidence:
    """pytest hooks of failure evidence (see the module docstring)."""

    def __init__(self, config: pytest.Config, catalogue: Any, is_worker: bool) -> None:
        self.config = config
        self.catalogue = catalogue  # a callable returning the Catalogue (loaded when first needed)
        self.is_worker = is_worker
        self.collected: dict[str, dict[str, Any]] = {}
        exchanges.install()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        exchanges.start()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.when == "teardown":
            exchanges.stop()
            return
        if not report.failed:
            return
        try:
            catalogue = self.catalogue()
        except Exception:  # the catalogue's own errors are reported by the plugin
            catalogue = None
        evidence = evidence_of(item, call, report, catalogue, list(self.config.getoption("kf_defect") or []))
        report.kf_evidence = evidence
        report.sections.append(("kongformance evidence", as_text(evidence)))
        _attach_to_allure(json.dumps(evidence, indent=1))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        evidence = getattr(report, "kf_evidence", None)
        if not self.is_worker and isinstance(evidence, dict):
            self.collected.setdefault(report.nodeid, evidence)

    def write(self, reports: Path, run_id: str) -> None:
        doc = {"run_id": run_id, "tests": self.collected}
        (reports / EVIDENCE_FILE).write_text(json.dumps(doc, indent=1, sort_keys=True), "utf-8")
