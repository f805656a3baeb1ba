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
