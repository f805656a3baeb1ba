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
import time
from pathlib import Path
from typing import Any

import pytest

from kongformance import run_checks, run_facts, run_signals
from kongformance.clients import pacing, polite
from kongformance.collection_checks import check_and_label
from kongformance.report.at_source import learn_settings, usage_error
from kongformance.run_signals import terminate_as_interrupt
from kongformance.suite_run import (
    DEFAULT_KONG_VERSION,
    RUN_KEY,
    WORKERINPUT_KEY,
    RunManager,
    run_manager,
)
from kongformance.targets import TARGETS

SEED_KEY = "kongformance_hypothesis_seed"
API_CALLS_KEY = "kongformance_api_calls"
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
        pacer = pacing.Pacer.from_settings(
            target_settings, target=manager.target_name(), workers=pacing.xdist_workers()
        )
        pacing.set_issuer_pacer(pacer)  # a parallel run stays under Kong Identity's rate per auth server
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
        try:
            reports.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise usage_error(f"kongformance: cannot write reports to {reports}: {exc.strerror}") from exc
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
