"""Redaction at the source: secrets are masked before pytest, JUnit, allure or the terminal see them.

Active in suite runs (registered by the kongformance pytest plugin). Where it acts:

- every test and collection report, in the process that ran the test (an xdist worker, or the only
  process), before any other plugin reads it: the failure representation (assertion message and ``-vv``
  diff, traceback source lines, ``-l`` locals, function arguments, hypothesis notes), the captured
  stdout, stderr and log sections, skip reasons and ``user_properties``;
- log records, when they are created (live logging, ``caplog``, the captured log section): message and
  formatted exception;
- allure-pytest's writer: every string of a result or container JSON (status message and trace, names,
  parameters, labels, links) and every attachment, before the file is written;
- warnings, before the terminal's warnings summary records them;
- the run's own secrets are learnt as exact values (:func:`kongformance.report.redaction.learn`): the client
  secrets and tokens of the applied profile when the ``kf_state`` fixture is set up (and, in the xdist
  controller, from the state it hands its workers), and (see
  :mod:`kongformance.report.exchanges`) every token the issuer hands out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import uuid
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from kongformance.report.redaction import known_secrets, learn, redact

# keys of the run's state (profile handles, stack) whose string values are secrets
_SECRET_KEYS = ("secret", "token", "password", "authorization", "private", "apikey", "api_key")


def redact_value(value: Any) -> Any:
    """``value`` with every string inside redacted (dicts, lists and tuples rebuilt; others unchanged)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    return value


def _redact_repr(obj: Any, seen: set[int]) -> None:
    """Redact, in place, every string field of one of pytest's ``TerminalRepr`` dataclasses."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, str | list | tuple | dict):
            new = _redact_nested(value, seen)
            try:
                setattr(obj, f.name, new)
            except dataclasses.FrozenInstanceError:
                object.__setattr__(obj, f.name, new)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            _redact_repr(value, seen)


def _redact_nested(value: Any, seen: set[int]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        items = [_redact_nested(v, seen) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _redact_nested(v, seen) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _redact_repr(value, seen)
    return value


def redact_longrepr(longrepr: Any) -> Any:
    """A report's ``longrepr`` with secrets redacted (structured reprs are kept, edited in place)."""
    if longrepr is None:
        return None
    if isinstance(longrepr, str):
        return redact(longrepr)
    if isinstance(longrepr, tuple):
        return tuple(redact(v) if isinstance(v, str) else v for v in longrepr)
    if dataclasses.is_dataclass(longrepr) and not isinstance(longrepr, type):
        _redact_repr(longrepr, set())
        return longrepr
    return redact(str(longrepr))  # an unknown repr: its text is all the terminal and JUnit would show


def redact_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Redact, in place, everything of ``report`` that reaches the terminal, JUnit XML or allure."""
    report.longrepr = redact_longrepr(report.longrepr)
    report.sections = [(name, redact(content)) for name, content in report.sections]
    props = getattr(report, "user_properties", None)
    if props:
        setattr(report, "user_properties", [(k, redact_value(v)) for k, v in props])  # noqa: B010
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        setattr(report, "wasxfail", redact(wasxfail))  # noqa: B010


def learn_settings(settings: Mapping[str, str]) -> None:
    """Learn the values of target settings with secret-looking names (``KONNECT_TOKEN``, ``KF_*_TOKEN``,
    ...), given with ``--kf-set`` or in the environment, before anything can print one."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("KF_", "KONNECT_"))}
    learn_from({**env, **settings})


def stop(message: str, returncode: int) -> NoReturn:
    """``pytest.exit`` with ``message`` redacted: a setting's value in it may be a token."""
    pytest.exit(redact(message), returncode=returncode)


def usage_error(message: str) -> pytest.UsageError:
    """A ``pytest.UsageError`` whose message is redacted (pytest prints it as it is)."""
    return pytest.UsageError(redact(message))


def learn_from(value: Any, key: str = "") -> None:
    """Learn the string values under secret-looking keys of a JSON-like document (the run's state)."""
    if isinstance(value, dict):
        for k, v in value.items():
            learn_from(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            learn_from(v, key)
    elif isinstance(value, str) and value.startswith(("{", "[")):
        with contextlib.suppress(ValueError):  # a nested document serialised as a string
            learn_from(json.loads(value), key)
    elif isinstance(value, str) and any(s in key.lower() for s in _SECRET_KEYS):
        learn(value)
        scheme, _, credential = value.partition(" ")
        if credential and scheme.isalpha():
            learn(credential)  # "Bearer <t>", "Basic <b64>": the credential alone too


# ---------------------------------------------------------------- logging


def _record_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it when the record is emitted
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.kongformance_redacting = True  # type: ignore[attr-defined]
    return factory


def install_log_redaction() -> None:
    """Redact every log record when it is created (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "kongformance_redacting", False):
        logging.setLogRecordFactory(_record_factory(current))


# ---------------------------------------------------------------- allure-pytest


def _allure_json(report_dir: Path) -> Callable[[Any], None]:
    """A replacement for ``AllureFileLogger._report_item`` that redacts before it writes."""
    from attr import asdict

    def report_item(item: Any) -> None:
        data = redact_value(asdict(item, filter=lambda _, v: v or v is False))
        name = item.file_pattern.format(prefix=uuid.uuid4())
        tmp = report_dir / f"{name}.tmp"
        with open(tmp, "w", encoding="utf8") as out:
            json.dump(data, out, ensure_ascii=False)
        os.replace(tmp, report_dir / name)

    return report_item


def install_allure_redaction(config: pytest.Config) -> None:
    """Make allure-pytest's writer and attachments redact (no-op when allure is not writing)."""
    try:
        import allure_commons
        from allure_commons.logger import AllureFileLogger
    except ImportError:
        return
    for plugin in allure_commons.plugin_manager.get_plugins():
        if isinstance(plugin, AllureFileLogger):
            plugin._report_item = _allure_json(plugin._report_dir)  # type: ignore[method-assign]
    listener = config.pluginmanager.get_plugin("allure_listener")
    reporter = getattr(listener, "allure_logger", None)
    if reporter is None or getattr(reporter, "kongformance_redacting", False):
        return
    attach_data, attach_file = reporter.attach_data, reporter.attach_file

    def redacted_data(uuid: str, body: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(body, bytes):
            with contextlib.suppress(UnicodeDecodeError):  # binary (an image): kept as it is
                body = redact(body.decode("utf-8")).encode("utf-8")
        elif isinstance(body, str):
            body = redact(body)
        attach_data(uuid, body, *args, **kwargs)

    def redacted_file(uuid: str, source: Any, *args: Any, **kwargs: Any) -> None:
        try:
            content = Path(source).read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            attach_file(uuid, source, *args, **kwargs)  # binary or unreadable: allure copies it as it is
            return
        attach_data(uuid, redact(content), *args, **kwargs)

    reporter.attach_data = redacted_data
    reporter.attach_file = redacted_file
    reporter.kongformance_redacting = True


# ---------------------------------------------------------------- the plugin


class SourceRedaction:
    """pytest hooks of redaction at the source (see the module docstring)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        install_log_redaction()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        _write_leak_scan_sink()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        install_allure_redaction(self.config)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Generator[None, Any, None]:
        outcome = yield
        if fixturedef.argname == "kf_state" and outcome.excinfo is None:
            state = outcome.get_result()
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                learn_from(json.loads(state.to_json()))

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Generator[None, Any, None]:
        outcome = yield
        redact_report(outcome.get_result())

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: learn the run's secrets from the state it hands its workers."""
        payload = node.workerinput.get("kongformance")
        if isinstance(payload, str) and payload.startswith("{"):
            with contextlib.suppress(ValueError):
                learn_from(json.loads(payload))

    @pytest.hookimpl(tryfirst=True)
    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str, location: Any) -> None:
        """Warnings (the terminal's warnings summary) are redacted before the terminal records them."""
        message = warning_message.message
        redacted = redact(str(message))
        if redacted != str(message):
            try:
                warning_message.message = type(message)(redacted)
            except Exception:  # a warning class with other arguments: fall back to a plain UserWarning
                warning_message.message = UserWarning(redacted)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, None]:
        outcome = yield
        redact_report(outcome.get_result())


LEAK_SCAN_SINK = "KF_LEAK_SCAN_SINK"  # tests only: a directory where each process lists what it learnt


def _write_leak_scan_sink() -> None:
    """For the leak-scan test (tests/report/test_leak_scan.py): every secret this process learnt, in a
    directory the test owns, so it can search everything the run wrote for each of them."""
    sink = os.environ.get(LEAK_SCAN_SINK)
    if sink and Path(sink).is_dir():
        (Path(sink) / f"{os.getpid()}.json").write_text(json.dumps(sorted(known_secrets())), "utf-8")


def register(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("kongformance-source-redaction"):
        config.pluginmanager.register(SourceRedaction(config), "kongformance-source-redaction")
