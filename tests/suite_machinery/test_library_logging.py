"""The emulators' log records (Kong's error-log lines) are a library's: printed only where an application
asks for them (``kongformance serve``, pytest's log capture), never by Python's last-resort handler, which
flooded ``kongformance run --mutation`` with hundreds of "rediscovery failed" lines."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from kongformance import cli

WARN = "import logging; logging.getLogger('kongformance.gateway.plugins.oidc_discovery').warning('kf-probe-line')"


def test_a_library_warning_prints_nothing_without_a_configured_handler() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import kongformance; " + WARN], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "kf-probe-line" not in done.stdout + done.stderr


def test_serve_shows_the_emulators_warnings_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    def fake_serve(args: object) -> int:
        logging.getLogger("kongformance.gateway.plugins.oidc_discovery").warning("kf-probe-line")
        return 0

    logger = logging.getLogger("kongformance")
    before = list(logger.handlers)
    sigterm = signal.getsignal(signal.SIGTERM)  # cli.main installs its own
    parser = cli.build_parser()
    args = parser.parse_args(["serve", "upstream", "--port", "0"])
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(args, fake_serve))
    try:
        assert cli.main([]) == 0
    finally:
        logger.handlers[:] = before
        signal.signal(signal.SIGTERM, sigterm)
    assert "kf-probe-line" in capsys.readouterr().err


class _Fixed:
    """A parser stand-in that returns ``args`` with ``_main`` replaced."""

    def __init__(self, args: object, main: object) -> None:
        self.args = args
        self.main = main

    def parse_args(self, argv: list[str] | None) -> object:
        self.args._main = self.main  # type: ignore[attr-defined]
        return self.args
