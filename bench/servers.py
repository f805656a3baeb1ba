"""Start and stop the servers a benchmark measures, each in its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    base: str
    output: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(
    name: str,
    cmd: list[str],
    ready_url: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Server:
    """Run ``cmd`` and wait (polling) until ``ready_url`` gives any HTTP answer below 500."""
    output = Path(tempfile.mkstemp(prefix=f"kf-bench-{name.replace(' ', '-')}-", suffix=".log")[1])
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    parts = urlsplit(ready_url)
    server = Server(name, proc, f"{parts.scheme}://{parts.netloc}", output)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{output.read_text()[-3000:]}")
        try:
            if httpx.get(ready_url, headers=headers, timeout=1.0).status_code < 500:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} not ready after {timeout}s:\n{output.read_text()[-3000:]}")
        time.sleep(0.05)  # polling a starting process
