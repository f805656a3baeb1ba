"""What a suite run writes besides JUnit and allure: evidence, allure extras, the report, the summary.

Registered by the kongformance pytest plugin in suite runs. It gives the run an id (``KF_RUN_ID`` when set,
which ``kongformance run`` does, else a fresh one) that the coverage JSON, JUnit properties, allure's
environment.properties and ``evidence.json`` carry, so a report is only ever built from one run's results.
In the process that writes reports, at the end of the run it writes ``evidence.json``, allure's
``categories.json``, and ``compliance.html`` (plain ``pytest`` too, with or without xdist); the terminal
summary names the failing requirements first.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from kongformance.report import allure_extras
from kongformance.report.evidence import FailureEvidence
from kongformance.requirements import Catalogue

RUN_ID_KEY = pytest.StashKey[str]()
RUN_ID_ENV = "KF_RUN_ID"


def run_id(config: pytest.Config) -> str:
    """This run's id (the same in the controller and its workers)."""
    if RUN_ID_KEY not in config.stash:
        workerinput = getattr(config, "workerinput", {})
        config.stash[RUN_ID_KEY] = (
            workerinput.get("kongformance_run_id") or os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex[:16]
        )
    return config.stash[RUN_ID_KEY]


class RunEnd:
    """pytest hooks (see the module docstring)."""

    def __init__(
        self,
        config: pytest.Config,
        catalogue: Callable[[], Catalogue],
        reports: Path | None,
        is_worker: bool,
    ) -> None:
        self.config = config
        self.catalogue = catalogue
        self.reports = reports
        self.is_worker = is_worker
        self.evidence = FailureEvidence(config, catalogue, is_worker)
        config.pluginmanager.register(self.evidence, "kongformance-evidence")
        self.failing: dict[str, list[str]] = {}  # requirement -> failing node ids
        self.wrote_results = False
        run_id(config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kongformance_run_id"] = run_id(self.config)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        catalogue = self.catalogue()
        for item in items:  # (the plugin records each test's flow: marker, flow parameter or module FLOW)
            ids = [str(a) for m in item.iter_markers("requirement") for a in m.args]
            if ids:
                allure_extras.label_item(item, [catalogue[r] for r in dict.fromkeys(ids) if r in catalogue])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.when == "teardown":
            allure_extras.finish_result(self.config, item)
        elif report.when == "call":
            devs = [str(v) for k, v in item.user_properties if k == "deviation"]
            if devs:
                allure_extras.mark_deviation(devs)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker or not report.failed or report.when == "teardown":
            return
        for key, value in report.user_properties:
            if key == "requirement":
                self.failing.setdefault(str(value), []).append(report.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if not self.failing:
            return
        catalogue = self.catalogue()
        tr = terminalreporter
        tr.section("kongformance: failing requirements", red=True, bold=True)
        for rid, nodeids in sorted(self.failing.items()):
            req = catalogue.requirements.get(rid)
            what = f" {req.level}: {req.statement}" if req is not None else ""
            tr.write_line(f"{rid}{what}")
            for nodeid in dict.fromkeys(nodeids):
                tr.write_line(f"    {nodeid}")

    def run_facts(self) -> dict[str, str]:
        facts = {"run_id": run_id(self.config)}
        if self.config.getoption("kf_defect"):
            facts["defects"] = ",".join(self.config.getoption("kf_defect"))
        return facts

    def _record_run_facts(self, session: pytest.Session) -> None:
        """Run id and defects into the coverage JSON's ``run`` and JUnit's suite properties (before
        either is written)."""
        from _pytest.junitxml import xml_key

        from kongformance.suite_run import run_manager

        facts = self.run_facts()
        run_manager(self.config).coverage.run.update(facts)
        xml = self.config.stash.get(xml_key, None)
        if xml is not None:
            for name, value in facts.items():
                xml.add_global_property(f"kongformance.{name}", value)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, Any, None]:
        active = not self.is_worker and self.reports is not None and not self.config.option.collectonly
        if active:
            self._record_run_facts(session)
        yield  # the plugin writes the coverage JSON, junitxml its file
        if not active or self.reports is None:
            return
        self.wrote_results = (self.reports / "requirements-coverage.json").is_file()
        if not self.wrote_results:
            return
        self.evidence.write(self.reports, run_id(self.config))
        allure_dir = getattr(self.config.option, "allure_report_dir", None)
        if allure_dir and Path(allure_dir).is_dir():
            allure_extras.write_categories(Path(allure_dir))
            allure_extras.add_environment(Path(allure_dir), self.run_facts())

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """After every plugin wrote its files (JUnit XML at session finish): the HTML report."""
        if self.is_worker or self.reports is None or not self.wrote_results:
            return
        from kongformance.report import ReportInputError, build_report

        try:
            path = build_report(self.reports, run_id=run_id(config))
        except ReportInputError as exc:
            print(f"kongformance report: {exc}", file=sys.stderr)
            return
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line(f"kongformance: compliance report {path}")


def register(config: pytest.Config, catalogue: Callable[[], Catalogue], reports: Path | None) -> None:
    """Register redaction at the source (report/at_source.py) and this plugin, once."""
    if config.pluginmanager.has_plugin("kongformance-run-end"):
        return
    from kongformance.report.at_source import register as register_source_redaction

    register_source_redaction(config)
    plugin = RunEnd(config, catalogue, reports, hasattr(config, "workerinput"))
    config.pluginmanager.register(plugin, "kongformance-run-end")
