"""Keep-alive HTTP connections to the emulator whose serving process is known (read from /proc).

The server side of a loopback TCP connection is found in /proc/net/tcp by its ports; the process that
holds that socket's inode among its file descriptors is the one answering on the connection.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit


def _server_inode(server_port: int, client_port: int) -> int | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server_port and remote_port == client_port:
                return int(fields[9])
    return None


def _owner(pids: list[int], inode: int) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


class Connection:
    """One keep-alive connection; :attr:`pid` is the emulator process that accepted it."""

    def __init__(self, base: str, pids: list[int]) -> None:
        parts = urlsplit(base)
        assert parts.hostname is not None and parts.port is not None
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.request("GET", "/_emulator/clock")  # answered once accepted, so the socket exists
        assert self.conn.sock is not None
        inode = _server_inode(parts.port, self.conn.sock.getsockname()[1])
        self.pid = _owner(pids, inode) if inode is not None else None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        body = urlencode(form) if form is not None else None
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


def one_per_process(base: str, pids: list[int], attempts: int = 200) -> dict[int, Connection]:
    """A connection served by each of ``pids`` (opening new ones until every process took one)."""
    found: dict[int, Connection] = {}
    for _ in range(attempts):
        conn = Connection(base, pids)
        if conn.pid is not None and conn.pid not in found:
            found[conn.pid] = conn
        else:
            conn.close()
        if len(found) == len(pids):
            return found
    raise AssertionError(f"connections reached only processes {sorted(found)} of {pids}")
