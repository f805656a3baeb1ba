"""`kongformance serve stack` and `kongformance serve upstream` in the foreground (h8 Deliver 1-2)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

CLI = [sys.executable, "-m", "kongformance.cli", "serve"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_stack_prints_five_urls_that_answer_and_stops_on_interrupt() -> None:
    """issue 3 Deliver 4: `serve stack` starts issuer, gateway and upstream on loopback and prints their URLs."""
    with subprocess.Popen([*CLI, "stack", "--random-ports"], stdout=subprocess.PIPE, text=True) as proc:
        code = _urls_answer(proc)
    assert code in (0, 130)


def _urls_answer(proc: subprocess.Popen[str]) -> int:
    try:
        assert proc.stdout is not None
        urls = {}
        for line in proc.stdout:
            if line.startswith("serving"):
                break
            role, url = line.split()
            urls[role] = url
        assert set(urls) == {"identity", "admin", "proxy", "proxy_ssl", "upstream"}
        with httpx.Client(verify=False, timeout=5) as c:
            assert c.get(urls["upstream"] + "/anything").status_code == 200
            assert c.get(urls["admin"] + "/").status_code == 200
            assert c.get(urls["identity"] + "/v1/auth-servers").status_code == 401
            assert c.get(urls["proxy_ssl"] + "/none").status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(15)
    return code


def test_serve_stack_refuses_an_unknown_defect_with_a_message() -> None:
    """common.md: bad input gets a clear error, never a traceback."""
    done = subprocess.run(
        [*CLI, "stack", "--random-ports", "--defect", "no_such_defect"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown defect(s) no_such_defect" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_serve_upstream_listens_on_the_given_port() -> None:
    """h8 Deliver 1: `kongformance serve upstream --port N`."""
    port = _free_port()
    with subprocess.Popen([*CLI, "upstream", "--port", str(port)], stdout=subprocess.PIPE, text=True) as proc:
        _answers_on(proc, port)


def _answers_on(proc: subprocess.Popen[str], port: int) -> None:
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/anything/cli")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("serve upstream did not start")
                time.sleep(0.05)  # polling a starting process
        assert r.json()["url"] == f"http://127.0.0.1:{port}/anything/cli"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
