"""``kongformance run`` forwards SIGINT/SIGTERM to pytest once and waits for its teardown; plain pytest turns
SIGTERM into an orderly end (issue 9 Deliver 3)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.cleanup.served import poll_until

# stands in for pytest: counts the signals it gets, then "tears down" until told to finish
CHILD = textwrap.dedent(
    """
    import signal, sys
    out = open(sys.argv[1], "a", buffering=1)
    def got(signum, frame):
        out.write(f"got {signal.Signals(signum).name}\\n")
    signal.signal(signal.SIGINT, got)
    signal.signal(signal.SIGTERM, got)
    out.write("ready\\n")
    sys.stdin.readline()  # the teardown: lasts until the test says so
    out.write("done\\n")
    sys.exit(5)
    """
)
RUNNER = (
    "import sys; from kongformance.runner import run_forwarding_signals; "
    "sys.exit(run_forwarding_signals([sys.executable, '-c', sys.argv[1], sys.argv[2]]))"
)


def pytest_in(directory: Path, test_file: str, *, keep: bool) -> subprocess.CompletedProcess[str]:
    """Plain pytest on ``test_file`` in ``directory``, with run_signals' hooks when ``keep`` (else the control)."""
    plugin = ["-p", "kongformance.run_signals"] if keep else []
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin, "-q", test_file],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("to_group", [False, True], ids=["to-pid", "to-terminal-group"])
def test_run_forwards_the_signal_once_and_waits_for_the_teardown(
    tmp_path: Path, signum: int, to_group: bool
) -> None:
    log = tmp_path / "child.log"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, CHILD, str(log)],
        stdin=subprocess.PIPE,
        text=True,
        process_group=0,  # like a shell job: the terminal's Ctrl-C goes to this group
    )
    try:
        poll_until(lambda: log.exists() and "ready" in log.read_text(), 30, "the child ready")
        if to_group:
            import os

            os.killpg(runner.pid, signum)
        else:
            runner.send_signal(signum)
        name = signal.Signals(signum).name
        poll_until(lambda: f"got {name}" in log.read_text(), 30, f"the child receiving {name}")
        assert runner.poll() is None, "the runner did not wait for the child's teardown"
        assert runner.stdin is not None
        runner.stdin.write("finish\n")
        runner.stdin.close()
        assert runner.wait(timeout=30) == 5
    finally:
        if runner.poll() is None:
            runner.kill()
    assert log.read_text().splitlines() == ["ready", f"got {name}", "done"]


def test_sigterm_ends_a_plain_pytest_session_through_its_teardown(tmp_path: Path) -> None:
    """terminate_as_interrupt: SIGTERM raises KeyboardInterrupt, so finally blocks and teardowns run."""
    log = tmp_path / "log"
    script = textwrap.dedent(
        f"""
        import os, signal
        from kongformance.run_signals import terminate_as_interrupt
        assert terminate_as_interrupt()
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
        except KeyboardInterrupt:
            open({str(log)!r}, "w").write("torn down")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "torn down"


# a Ctrl-C lands in a test whose clean-up then fails (the interrupted POST's route exists after all, so the
# service's DELETE answers 400): the clean-up's error replaces the KeyboardInterrupt
MASKED = textwrap.dedent(
    """
    import pathlib

    def test_interrupted_then_its_clean_up_fails():
        try:
            raise KeyboardInterrupt("signal SIGINT")
        finally:
            raise ValueError("DELETE /services/x -> 400: an existing 'routes' entity references it")

    def test_after_the_interrupt():
        pathlib.Path("ran-on").write_text("the session went on after the Ctrl-C")
    """
)


@pytest.mark.parametrize("keep", [True, False], ids=["with-run-signals", "without"])
def test_a_failing_clean_up_does_not_swallow_the_interrupt(tmp_path: Path, keep: bool) -> None:
    """run_signals' hooks end the session as interrupted (exit 2) instead of a failure and a session going on;
    without them (the control) pytest reports the clean-up's error and runs the next test."""
    (tmp_path / "test_masked.py").write_text(MASKED)
    done = pytest_in(tmp_path, "test_masked.py", keep=keep)
    if keep:
        assert done.returncode == 2, done.stdout[-2000:]
        assert not (tmp_path / "ran-on").exists()
    else:
        assert done.returncode == 1, done.stdout[-2000:]
        assert (tmp_path / "ran-on").exists()


# a Ctrl-C that lands in an old-style hookwrapper's teardown (allure's pytest_runtest_logfinish does that)
HOOKWRAPPER = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_logfinish(nodeid, location):
        yield
        raise KeyboardInterrupt("signal SIGINT")
    """
)


@pytest.mark.parametrize("keep", [True, False], ids=["with-run-signals", "without"])
def test_an_interrupt_in_a_hookwrapper_teardown_is_an_interrupt_not_an_internal_error(
    tmp_path: Path, keep: bool
) -> None:
    """Under ``filterwarnings = error`` pluggy's warning about the hookwrapper would end the session with
    INTERNALERROR (exit 3, the control); with run_signals it ends as interrupted (exit 2)."""
    (tmp_path / "conftest.py").write_text(HOOKWRAPPER)
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    done = pytest_in(tmp_path, "test_one.py", keep=keep)
    assert done.returncode == (2 if keep else 3), done.stdout[-2000:] + done.stderr[-2000:]
    assert ("INTERNALERROR" in done.stdout + done.stderr) is not keep


# CPython 3.11 gives a traceback entry no line (tb_lineno None) when the signal lands on an instruction that
# has none (the clean-up code of a ``with`` block has some); this test's interrupt carries such an entry
NO_LINE = textwrap.dedent(
    """
    import sys, types

    def test_interrupted_where_no_line_is_known():
        with open(__file__):
            pass
        frame = sys._getframe()
        lasti = next(start for start, _end, line in frame.f_code.co_lines() if line is None)
        raise KeyboardInterrupt("signal SIGINT").with_traceback(types.TracebackType(None, frame, lasti, -1))
    """
)


@pytest.mark.parametrize("keep", [True, False], ids=["with-run-signals", "without"])
def test_an_interrupt_at_an_instruction_without_a_line_ends_as_interrupted(
    tmp_path: Path, keep: bool
) -> None:
    """pytest's summary of the interrupt fails on the missing line (a traceback and exit 1, the control); with
    run_signals the run ends as interrupted (exit 2) and names the test's file."""
    (tmp_path / "test_one.py").write_text(NO_LINE)
    done = pytest_in(tmp_path, "test_one.py", keep=keep)
    output = done.stdout + done.stderr
    assert done.returncode == (2 if keep else 1), output[-2000:]
    assert ("Traceback" in output) is not keep, output[-2000:]
    if keep:
        assert "test_one.py" in output and "KeyboardInterrupt" in output, output[-2000:]
