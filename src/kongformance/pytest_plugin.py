"""kongformance's pytest plugin (entry point ``pytest11``): options, requirement markers, run set-up, reports.

Active machinery only for a *suite run* (paths under ``suites/`` or an explicit ``--kf-target``); other
test runs of the repository only see the options and markers. In a suite run:

- every test under ``suites/`` must carry ``@pytest.mark.requirement(...)`` with catalogue IDs (else the
  run stops with a usage error); the IDs become JUnit properties and allure labels;
- the process that owns the run (the xdist controller, or the only process) starts the target, applies
  the profile once and runs the guard; workers get the result through ``workerinput``;
- JUnit XML, allure results and ``requirements-coverage.json`` are written under ``reports/``;
- hypothesis runs under the chosen profile (dev / ci / nightly) with a seed printed in the header and on
  every failure.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kongformance import run_checks, run_facts, run_signals
from kongformance.clients import polite
from kongformance.collection_checks import check_and_label
from kongformance.deviations import DeviationRegistry, load_registry
from kongformance.report.at_source import learn_settings, stop, usage_error
from kongformance.requirements import Catalogue, Coverage, load_catalogue
from kongformance.run_signals import terminate_as_interrupt
from kongformance.targets import TARGETS, Stack, TargetOptions, TargetUnavailable
from kongformance.targets.setup import GuardFailure, RunSetup, RunState

SUITES_DIR = "suites"
WORKERINPUT_KEY = "kongformance"
SEED_KEY = "kongformance_hypothesis_seed"
API_CALLS_KEY = "kongformance_api_calls"
EXIT_TARGET_UNAVAILABLE = 3
DEFAULT_KONG_VERSION = "3.15"
HYPOTHESIS_PROFILES = ("dev", "ci", "nightly")


def _register_hypothesis_profiles() -> None:
    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {
        "deadline": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        "database": None,
    }
    settings.register_profile("dev", max_examples=15, **common)
    settings.register_profile("ci", max_examples=100, **common)
    settings.register_profile("nightly", max_examples=5, **common)  # gentle on Konnect's rate limits


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("kongformance", "kongformance conformance suite")
    g.addoption(
        "--kf-target", default=None, choices=TARGETS, help="where to run (default: KF_TARGET or local)"
    )
    g.addoption(
        "--kf-kong-version",
        default=os.environ.get("KF_KONG_VERSION"),
        help=f"Kong version (default: read from the gateway, else {DEFAULT_KONG_VERSION})",
    )
    g.addoption("--kf-db-less", action="store_true", default=os.environ.get("KF_DB_LESS") == "1")
    g.addoption("--kf-defect", action="append", default=[], help="start the local stack with this defect on")
    g.addoption("--kf-set", action="append", default=[], metavar="KEY=VALUE", help="target setting")
    g.addoption("--kf-state-file", default=None, help="use an already set-up run (JSON of RunState)")
    g.addoption(
        "--kf-hypothesis-profile",
        default=os.environ.get("KF_HYPOTHESIS_PROFILE", "dev"),
        choices=HYPOTHESIS_PROFILES,
    )
    g.addoption("--kf-reports", default=None, help="directory for run output (default <rootdir>/reports)")
    g.addoption("--kf-no-reports", action="store_true", help="write nothing under reports/")
    g.addoption(
        "--kf-ledger",
        default=None,
        help="run ledger directory (default KF_LEDGER_DIR or ~/.cache/kongformance)",
    )


class RunManager:
    """Per-process state of a suite run: the catalogue, the run set-up (owner) or its copy (worker)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.suite_dir = Path(str(config.rootpath)) / SUITES_DIR
        self.suite_run = self._is_suite_run()
        self.is_worker = hasattr(config, "workerinput")
        self.setup: RunSetup | None = None
        self._state: RunState | None = None
        self._unavailable: str | None = None
        self.lock_dir: str | None = None
        self._catalogue: Catalogue | None = None
        self._registry: DeviationRegistry | None = None
        self._coverage: Coverage | None = None
        self._checks: run_checks.RunChecks | None = None
        self.verdict: list[str] = []
        self.started = time.monotonic()
        self.stopped_at_start = False  # the xdist controller ended the session before it ran

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        return self._catalogue

    @property
    def registry(self) -> DeviationRegistry:
        if self._registry is None:
            self._registry = load_registry()
        return self._registry

    @property
    def checks(self) -> run_checks.RunChecks:
        if self._checks is None:
            self._checks = run_checks.RunChecks(self.catalogue)
        return self._checks

    @property
    def coverage(self) -> Coverage:
        if self._coverage is None:
            self._coverage = Coverage(self.catalogue)
        return self._coverage

    def _is_suite_run(self) -> bool:
        if self.config.getoption("kf_target") or self.config.getoption("kf_state_file"):
            return True
        for arg in self.config.args:
            path = Path(arg.split("::")[0])
            path = path if path.is_absolute() else Path(str(self.config.invocation_params.dir)) / path
            try:
                path.resolve().relative_to(self.suite_dir.resolve())
                return True
            except ValueError:
                continue
        return False

    def is_suite_item(self, item: pytest.Item) -> bool:
        try:
            Path(str(item.path)).resolve().relative_to(self.suite_dir.resolve())
            return True
        except ValueError:
            return False

    def target_options(self) -> TargetOptions:
        settings = dict(s.split("=", 1) for s in self.config.getoption("kf_set") if "=" in s)
        given = self.config.getoption("kf_kong_version")
        return TargetOptions(
            kong_version=given or DEFAULT_KONG_VERSION,
            kong_version_given=bool(given),
            db_less=bool(self.config.getoption("kf_db_less")),
            defects=tuple(self.config.getoption("kf_defect")),
            settings=settings,
        )

    @property
    def stack(self) -> Stack | None:
        return self._state.stack if self._state is not None else None

    def target_name(self) -> str:
        return str(self.config.getoption("kf_target") or os.environ.get("KF_TARGET", "local"))

    def start(self) -> None:
        """Owner only: start the target and apply the profile; a target that cannot run, a refused set-up
        or a guard failure ends the session before any test (exit 3)."""
        try:
            self._start()
        except pytest.exit.Exception:  # the xdist controller stops before the session ran (see below)
            self.stopped_at_start = self.config.pluginmanager.getplugin("dsession") is not None
            raise

    def _start(self) -> None:
        if self._state is not None or self._unavailable is not None:
            return
        state_file = self.config.getoption("kf_state_file")
        if state_file:
            self._state = RunState.from_json(Path(state_file).read_text("utf-8"))
            return
        self.lock_dir = tempfile.mkdtemp(prefix="kongformance-run-")
        target = self.target_name()
        try:
            ledger = self.config.getoption("kf_ledger")
            self.setup = RunSetup(
                target, self.target_options(), self.lock_dir, Path(ledger) if ledger else None
            )
            self._state = self.setup.start()
        except TargetUnavailable as exc:
            self._unavailable = str(exc)
            lines = "\n  ".join(str(exc).splitlines())
            stop(
                f"kongformance: target {target!r} cannot run, no test was started:\n  {lines}\n"
                "(each target's settings: README.md, section Targets)",
                EXIT_TARGET_UNAVAILABLE,
            )
        except GuardFailure as exc:
            stop(f"kongformance guard: {exc}", 3)
        except (
            RuntimeError,
            TimeoutError,
            OSError,
            httpx.HTTPError,
        ) as exc:  # Admin/Identity API refusals too
            stop(f"kongformance: setting up the run on target {target!r} failed: {exc}", 3)

    def state(self) -> RunState:
        """The run's state for fixtures; skips the test when the target is unavailable."""
        if self._state is None and self._unavailable is None:
            if self.is_worker:
                raw = self.config.workerinput.get(WORKERINPUT_KEY)  # type: ignore[attr-defined]
                if raw is None:
                    self._unavailable = "the xdist controller set up no kongformance run"
                elif raw.startswith("unavailable:"):
                    self._unavailable = raw[len("unavailable:") :]
                else:
                    self._state = RunState.from_json(raw)
            else:
                self.start()
        if self._state is None:  # fail closed: never skip the run's tests for a target that cannot run
            stop(f"kongformance: target unavailable: {self._unavailable}", EXIT_TARGET_UNAVAILABLE)
        return self._state

    def worker_payload(self) -> str:
        self.start()
        if self._state is None:
            return f"unavailable:{self._unavailable}"
        return self._state.to_json()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Coverage bookkeeping in the process that writes reports (controller or only process)."""
        if self.is_worker:
            return
        ids = [str(v) for k, v in report.user_properties if k == "requirement"]
        if not ids:
            return
        if report.when == "setup":
            self.coverage.add_collected(report.nodeid, ids)
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            props = report.user_properties
            devs = [str(v) for k, v in props if k == "deviation"]
            opens = {str(v).split(" ", 1)[0]: str(v) for k, v in props if k == "open"}
            unchecked_ids = [str(v).split(" ", 1)[0] for k, v in props if k == "unchecked"]
            self.coverage.add_outcome(
                report.nodeid, ids, report.outcome, devs, open_=opens, unchecked=unchecked_ids
            )
            reason = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
            ran = "passed" if hasattr(report, "wasxfail") else report.outcome  # an xfail ran
            unchecked = [str(v) for k, v in props if k == "unchecked"]
            self.checks.record(report.nodeid, ids, ran, reason, unchecked)

    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        """An exit while the xdist controller starts the target (pytest_sessionstart, or the first worker's
        pytest_configure_node): pytest has written its message to stderr already, so the terminal's closing
        ``! ... !`` line would say it a second time."""
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if self.stopped_at_start and tr is not None and hasattr(tr, "_keyboardinterrupt_memo"):
            tr._keyboardinterrupt_memo = None

    def finish(self) -> None:
        if self.setup is not None:
            self.setup.stop()
            self.setup = None
        if self.lock_dir:
            shutil.rmtree(self.lock_dir, ignore_errors=True)


RUN_KEY = pytest.StashKey[RunManager]()


def run_manager(config: pytest.Config) -> RunManager:
    return config.stash[RUN_KEY]


def _reports_dir(config: pytest.Config) -> Path | None:
    if config.getoption("kf_no_reports"):
        return None
    return Path(config.getoption("kf_reports") or Path(str(config.rootpath)) / "reports")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): requirement IDs (data/requirements.yaml) this test checks"
    )
    config.addinivalue_line(
        "markers", "needs(*capabilities): virtual_clock | issuer_control | upstream_log | db | owns_gateway"
    )
    config.addinivalue_line("markers", "flow(name): the catalogue flow this suite test runs on")
    manager = RunManager(config)
    config.stash[RUN_KEY] = manager
    config.pluginmanager.register(manager, "kongformance-run")
    if not manager.suite_run:
        return
    terminate_as_interrupt()  # SIGTERM (CI cancelling) ends the session in order, with teardown
    # a failing clean-up or a hookwrapper cannot turn a Ctrl-C into a failure or an INTERNALERROR
    config.pluginmanager.register(run_signals, "kongformance-keep-interrupts")
    target_settings = manager.target_options().settings
    learn_settings(target_settings)  # a token among them is masked wherever it would be printed
    try:
        polite.set_default_policy(polite.RetryPolicy.from_settings(target_settings))
    except ValueError as exc:
        raise usage_error(f"kongformance: {exc}") from exc
    polite.API_CALLS.reset()
    _register_hypothesis_profiles()
    from hypothesis import settings

    settings.load_profile(config.getoption("kf_hypothesis_profile"))
    if manager.is_worker:  # workers re-parse the command line: take the controller's seed
        config.option.hypothesis_seed = config.workerinput.get(SEED_KEY)  # type: ignore[attr-defined]
    elif config.getoption("hypothesis_seed", None) is None:
        seed = os.environ.get("KF_HYPOTHESIS_SEED") or str(random.randrange(2**32))
        config.option.hypothesis_seed = seed
    reports = _reports_dir(config)
    from kongformance.report.run_end import register as register_report_machinery  # redaction, evidence

    register_report_machinery(
        config, lambda: manager.catalogue, None if config.option.collectonly else reports
    )
    if reports is None or config.option.collectonly:
        return
    allure_dir = reports / "allure-results"
    if not manager.is_worker:
        reports.mkdir(parents=True, exist_ok=True)
        if not getattr(config.option, "xmlpath", None):
            config.option.xmlpath = str(reports / "junit.xml")
        if not getattr(config.option, "allure_report_dir", None):
            shutil.rmtree(allure_dir, ignore_errors=True)  # only the controller cleans
    if not getattr(config.option, "allure_report_dir", None):
        config.option.allure_report_dir = str(allure_dir)  # workers write their results here too


def pytest_report_header(config: pytest.Config) -> list[str]:
    manager = config.stash.get(RUN_KEY, None)
    if manager is None or not manager.suite_run:
        return []
    target = config.getoption("kf_target") or os.environ.get("KF_TARGET", "local")
    return [
        f"kongformance: target {target}, Kong {config.getoption('kf_kong_version') or 'version as the target reports it'}, "
        f"{len(manager.catalogue)} requirements",
        f"hypothesis profile {config.getoption('kf_hypothesis_profile')}, "
        f"seed {config.getoption('hypothesis_seed')} (rerun with --hypothesis-seed=<seed>)",
    ]


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    manager = run_manager(config)
    check_and_label(manager.catalogue, [item for item in items if manager.is_suite_item(item)])


def pytest_sessionstart(session: pytest.Session) -> None:
    manager = run_manager(session.config)
    if not manager.suite_run or manager.is_worker:
        return
    manager.started = time.monotonic()
    if session.config.pluginmanager.getplugin("dsession") is not None:
        manager.start()  # the controller sets up once, before any worker starts (or stops the session)
        run_facts.record(session.config, manager.coverage, manager.target_name(), manager.stack)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without xdist: start the target before the first test, so a target that cannot run stops the run
    before any test rather than inside the first one that needs it."""
    manager = run_manager(session.config)
    distributed = session.config.pluginmanager.getplugin("dsession") is not None
    if not manager.suite_run or manager.is_worker or distributed:
        return
    needed = any("kf_state" in getattr(item, "fixturenames", ()) for item in session.items)
    if needed and not session.config.option.collectonly:
        manager.start()
    run_facts.record(session.config, manager.coverage, manager.target_name(), manager.stack)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The xdist controller adds each worker's API call counts to its own."""
    counts = getattr(node, "workeroutput", {}).get(API_CALLS_KEY)
    if counts:
        polite.API_CALLS.add(counts)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    manager = run_manager(node.config)
    if manager.suite_run:
        node.workerinput[WORKERINPUT_KEY] = manager.worker_payload()
        node.workerinput[SEED_KEY] = node.config.getoption("hypothesis_seed", None)


@pytest.hookimpl(trylast=True)  # after xdist stopped its workers: nothing creates objects during teardown
def pytest_sessionfinish(session: pytest.Session) -> None:
    manager = run_manager(session.config)
    if manager.suite_run and manager.is_worker:
        session.config.workeroutput[API_CALLS_KEY] = polite.API_CALLS.snapshot()  # type: ignore[attr-defined]
    if not manager.suite_run or manager.is_worker:
        manager.finish()
        return
    manager.finish()  # teardown's API calls count too
    manager.verdict = manager.checks.verdict()
    if manager.verdict and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = run_checks.EXIT_UNCHECKED  # fail closed: the run did not check what it had to
    reports = _reports_dir(session.config)
    write_logs = getattr(getattr(manager.setup, "target", None), "write_logs", None)
    if reports is not None and session.testsfailed and callable(write_logs):
        write_logs(reports / "containers")  # the containers' logs (redacted) of a failed run
    manager.coverage.run.update(run_facts.closing_facts(manager.checks, manager.verdict))  # the summary's too
    if reports is not None and manager.coverage.collected:
        manager.coverage.run["duration"] = round(time.monotonic() - manager.started, 3)
        manager.coverage.write(reports / "requirements-coverage.json")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Interrupted before the session started (pytest then skips ``pytest_sessionfinish``): tear down here."""
    manager = config.stash.get(RUN_KEY, None)
    if manager is not None:
        manager.finish()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.failed and hasattr(getattr(item, "obj", None), "hypothesis"):
        seed = item.config.getoption("hypothesis_seed", None)
        report.sections.append(("hypothesis seed", f"{seed} (rerun with --hypothesis-seed={seed})"))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    manager = config.stash.get(RUN_KEY, None)
    if manager is None or not manager.suite_run or not manager.coverage.collected:
        return
    cov = manager.coverage
    statuses: dict[str, int] = {}
    for rid in manager.catalogue.requirements:
        s = cov.status(rid)
        statuses[s] = statuses.get(s, 0) + 1
    tr = terminalreporter
    tr.section("kongformance requirements")
    tr.write_line(", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    devs = sorted({r["deviations"] for runs in cov.tests.values() for r in runs if r["deviations"]})
    if devs:
        tr.write_line("deviations observed (recorded in data/deviations.yaml): " + ", ".join(devs))
    opens = sorted({r["observation"] for runs in cov.tests.values() for r in runs if r.get("observation")})
    if opens:
        tr.write_line("open (Kong's behaviour unknown; observed, not credited): " + "; ".join(opens))
    uncovered = cov.uncovered()
    if uncovered:
        tr.write_line(f"requirements no test covers ({len(uncovered)}): " + ", ".join(uncovered))
    run_facts.summarize(tr, manager.checks, manager.verdict, manager.stack, manager.target_name())
    seed = config.getoption("hypothesis_seed", None)
    if exitstatus not in (0, 5) and seed is not None:
        tr.write_line(f"hypothesis seed of this run: {seed} (rerun with --hypothesis-seed={seed})")
