"""A ``kongformance serve identity --workers 2`` subprocess on a free port, driven over HTTP only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from tests.identity_workers.connections import Connection, one_per_process

MGMT = {"Authorization": "Bearer test"}


@dataclass
class Emulator:
    """The running emulator: base URL, its process and what it wrote to stderr."""

    base: str
    process: subprocess.Popen[str]
    stderr: list[str] = field(default_factory=list)
    _connections: dict[int, Connection] = field(default_factory=dict)

    def connections(self) -> dict[int, Connection]:
        """A keep-alive connection to each process (primary and workers), by pid."""
        if not self._connections:
            self._connections = one_per_process(self.base, [self.process.pid, *self.worker_pids()])
        return self._connections

    def forget_connections(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections = {}

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def new_auth_server(self, name: str) -> tuple[dict, dict]:
        """An auth server and a client_credentials client (with its secret)."""
        with httpx.Client(base_url=self.base, headers=MGMT, timeout=10) as c:
            server = c.post("/v1/auth-servers", json={"name": name, "audience": f"https://{name}.test"})
            assert server.status_code == 201, server.text
            client = c.post(
                f"/v1/auth-servers/{server.json()['id']}/clients",
                json={
                    "name": f"{name}-client",
                    "grant_types": ["client_credentials"],
                    "response_types": [],
                    "allow_all_scopes": True,
                    "token_endpoint_auth_method": "client_secret_post",
                },
            )
            assert client.status_code == 201, client.text
            return server.json(), client.json()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kongformance.cli", "serve", "identity", "--port", "0", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    base = process.stdout.readline().strip()
    assert base.startswith("http://"), base
    running = Emulator(base=base, process=process)
    errors = process.stderr
    threading.Thread(target=lambda: running.stderr.extend(errors), daemon=True).start()
    try:
        yield running
    finally:
        running.forget_connections()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
