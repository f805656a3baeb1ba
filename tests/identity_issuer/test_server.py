"""``kongformance serve identity`` and the in-process app contract (identity_layout.md; issue 2 item 2)."""

from __future__ import annotations

import argparse
import selectors
import subprocess
import sys

import httpx
import pytest

from kongformance.clock import Clock
from kongformance.defects import UnknownDefect
from kongformance.identity import server as identity_server
from kongformance.identity.app import IdentityEmulator

# the `serve identity` subcommand's module, run on its own so other subcommands cannot break this test
SERVE_IDENTITY = (
    "import argparse, sys; from kongformance.identity import server; p = argparse.ArgumentParser(); "
    "server.add_arguments(p); sys.exit(server.main(p.parse_args()))"
)


def _first_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError("the server printed nothing")
    return proc.stdout.readline().strip()


def test_serve_identity_prints_its_base_url_and_serves() -> None:
    """identity_layout.md: `kongformance serve identity --host 127.0.0.1 --port N` prints its base URL."""
    cmd = [
        sys.executable,
        "-c",
        SERVE_IDENTITY,
        "--port",
        "0",
        "--accept-token",
        "sekret",
        "--defect",
        "aud_as_string",
    ]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _serves_identity(proc)


def _serves_identity(proc: subprocess.Popen[str]) -> None:
    try:
        url = _first_line(proc)
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_emulator/defects").json()["enabled"] == ["aud_as_string"]
        assert (
            httpx.get(f"{url}/v1/auth-servers", headers={"Authorization": "Bearer other"}).status_code == 401
        )
        assert (
            httpx.get(f"{url}/v1/auth-servers", headers={"Authorization": "Bearer sekret"}).status_code == 200
        )
    finally:
        proc.terminate()
        proc.wait(10)


def test_unknown_defect_is_refused_at_construction() -> None:
    """defects.py: naming a defect that does not exist is an error, not a silent no-op."""
    with pytest.raises(UnknownDefect):
        IdentityEmulator(defects=["no_such_defect"])


def test_issuer_urls_use_the_public_base_url_and_the_shared_clock() -> None:
    """identity_layout.md: issuer URL = {public_base_url}/{issuer_key}/auth; one clock per stack."""
    clock = Clock()
    emulator = IdentityEmulator(clock=clock)
    emulator.set_public_base_url("https://id.example.test/")
    server = emulator.store.create_server(name="s", audience="a")
    assert emulator.issuer_url_for(server) == f"https://id.example.test/{server.issuer_key}/auth"
    assert emulator.clock is clock and emulator.store.clock is clock


def _serve_identity_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    identity_server.add_arguments(parser)
    return parser


class _RecordingEmulator:
    """Stands in for IdentityEmulator to capture what `serve identity` constructs it with."""

    seen: dict[str, object] = {}

    def __init__(self, **kwargs: object) -> None:
        _RecordingEmulator.seen = kwargs
        self.app = object()
        self.public_base_url = ""

    def set_public_base_url(self, url: str) -> None:
        self.public_base_url = url


@pytest.mark.parametrize(
    ("argv", "expected"), [([], None), (["--signing-threads", "0"], 0), (["--signing-threads", "3"], 3)]
)
def test_serve_identity_passes_signing_threads_to_the_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], expected: int | None
) -> None:
    """bench/issuer.py and users pick where tokens are signed: threads (default one per CPU) or the loop (0)."""
    monkeypatch.setattr(identity_server, "IdentityEmulator", _RecordingEmulator)
    monkeypatch.setattr(
        identity_server, "serve_sockets_forever", lambda apps: [sock.close() for _, sock, *_ in apps]
    )
    assert identity_server.main(_serve_identity_parser().parse_args(["--port", "0", *argv])) == 0
    assert _RecordingEmulator.seen["signing_threads"] == expected
    assert capsys.readouterr().out.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_serve_identity_refuses_a_bad_signing_thread_count(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """Bad CLI input gets a clear usage error (exit 2), never a traceback."""
    with pytest.raises(SystemExit) as exited:
        _serve_identity_parser().parse_args(["--signing-threads", value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--signing-threads" in err and ("expected" in err) and "Traceback" not in err
