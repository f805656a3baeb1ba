"""Signals during a suite run: SIGTERM ends the session in order, and teardown is never cut short.

pytest turns SIGINT into ``KeyboardInterrupt`` and still runs ``pytest_sessionfinish`` (and so the run's
teardown); SIGTERM, how CI cancels a job, kills the process outright. :func:`terminate_as_interrupt` makes
SIGTERM behave like SIGINT in the process that calls it (the xdist controller and each worker, from
``pytest_configure``). :func:`deferred` holds both signals back while a teardown runs, so a second Ctrl-C or
a SIGTERM after a SIGINT cannot leave objects behind (teardown only runs when the run is ending anyway, so a
held signal is dropped; the block yields the list of signals it held).

This module is also a pytest plugin (registered for suite runs): a test's clean-up that fails while an
interrupt unwinds it (a ``finally`` whose DELETE answers 400 because the interrupted POST's route exists after
all) would replace the ``KeyboardInterrupt`` with its own error, the test would fail and the session run on
after the Ctrl-C. The hooks below raise the interrupt again, so the session ends as interrupted. And when the
Ctrl-C lands in an old-style hookwrapper's teardown (allure's ``pytest_runtest_logfinish``), pluggy reports it
as a ``PluggyTeardownRaisedWarning``; under ``filterwarnings = error`` that warning became an INTERNALERROR
(exit 3) instead of the interrupt (exit 2): it is only shown. When the signal lands on a bytecode instruction
that has no line number, CPython 3.11 gives its traceback entry ``tb_lineno = None`` and pytest's summary of
the interrupt fails on it (a traceback and exit 1): the entry is given the line of the statement it belongs to.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

import pytest

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def terminate_as_interrupt() -> bool:
    """SIGTERM raises ``KeyboardInterrupt`` (where SIGTERM still has its default action); True if installed."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, _interrupt)
    return True


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM back for the duration of the block (main thread only; a no-op elsewhere)."""
    held: list[int] = []
    if not _main_thread():
        yield held
        return
    previous: dict[signal.Signals, Any] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, hold)
    try:
        yield held
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


INTERRUPTED_HOOKWRAPPER = (
    "default:A plugin raised an exception during an old-style hookwrapper teardown\\.\\n"
    "Plugin. .+, Hook. \\w+\\nKeyboardInterrupt:pluggy.PluggyTeardownRaisedWarning"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", INTERRUPTED_HOOKWRAPPER)


def masked_interrupt(exc: BaseException) -> KeyboardInterrupt | None:
    """The ``KeyboardInterrupt`` that ``exc`` was raised while handling (its ``__context__`` chain), if any."""
    seen: set[int] = set()
    context = exc.__context__
    while context is not None and id(context) not in seen:
        if isinstance(context, KeyboardInterrupt):
            return context
        seen.add(id(context))
        context = context.__context__
    return None


def _keep_interrupt() -> Generator[None, object, object]:
    try:
        return (yield)
    except Exception as exc:
        interrupt = masked_interrupt(exc)
        if interrupt is None:
            raise
        raise KeyboardInterrupt(*interrupt.args) from exc


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _keep_interrupt())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _keep_interrupt())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _keep_interrupt())


def _statement_position(tb: TracebackType) -> tuple[int, int]:
    """The offset and line of the last instruction at or before ``tb_lasti`` that has a line (else the code's
    first instruction and line)."""
    code = tb.tb_frame.f_code
    position = (0, code.co_firstlineno)
    for start, _end, lineno in code.co_lines():
        if start > tb.tb_lasti:
            break
        if lineno is not None:
            position = (start, lineno)
    return position


def with_line_numbers(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` itself if every entry knows its line; else a copy in which an entry without one points at the
    statement it belongs to."""
    entries: list[TracebackType] = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if all(entry.tb_lineno is not None for entry in entries):
        return entries[0] if entries else None
    rebuilt: TracebackType | None = None
    for entry in reversed(entries):
        lasti, line = (
            (entry.tb_lasti, entry.tb_lineno) if entry.tb_lineno is not None else _statement_position(entry)
        )
        rebuilt = TracebackType(rebuilt, entry.tb_frame, lasti, line)
    return rebuilt


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Give every traceback entry of the interrupt (and of the exceptions chained to it) a line number."""
    for exc in _chain(excinfo.value):
        exc.__traceback__ = with_line_numbers(exc.__traceback__)
    repaired = with_line_numbers(excinfo.tb)
    if repaired is not excinfo.tb and repaired is not None:
        excinfo.traceback = type(excinfo.traceback)(repaired)
