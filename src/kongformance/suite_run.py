"""Per-process state of a suite run (:class:`RunManager`): the catalogue, the deviation registry and coverage
bookkeeping, and the run's set-up: started by the process that owns the run (the xdist controller, or the only
process), handed to workers through ``workerinput``. :mod:`kongformance.pytest_plugin` creates one per
process and registers it as a plugin; fixtures reach it with :func:`run_manager`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kongformance import run_checks
from kongformance.deviations import DeviationRegistry, load_registry
from kongformance.report.at_source import stop
from kongformance.requirements import Catalogue, Coverage, load_catalogue
from kongformance.targets import Stack, TargetOptions, TargetUnavailable
from kongformance.targets.setup import GuardFailure, RunSetup, RunState

SUITES_DIR = "suites"
WORKERINPUT_KEY = "kongformance"
EXIT_TARGET_UNAVAILABLE = 3
DEFAULT_KONG_VERSION = "3.15"


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
