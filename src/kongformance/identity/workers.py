"""``serve identity --workers N``: one primary emulator process plus N-1 token worker processes.

Every process listens on the same port (SO_REUSEPORT: one socket each, the kernel spreads connections). The primary (this process) owns the store, keys, clock,
defects, faults, request log and token records and answers everything; workers
(:mod:`kongformance.identity.worker_process`) answer ``POST {issuer}/oauth/token`` themselves and forward
the rest to the primary's Unix socket. How state moves between them: :mod:`kongformance.identity.worker_state`.

The primary's own app is wrapped in :class:`PrimaryHooks`: before any request it drains the workers' pipes
(so worker-issued tokens and their log entries are visible), and a write to ``/v1`` or ``/_emulator``, or
a token call that used up a fault, bumps the shared generation before its answer goes out (so workers
refresh before their next token).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kongformance.identity.app import IdentityEmulator
from kongformance.identity.worker_process import PRIMARY_SOCKET, SNAPSHOT_PATH, bind_shared_port
from kongformance.identity.worker_state import SEGMENT_FILE, Inbox, SharedSegment, take_snapshot
from kongformance.serving import new_event_loop

WORKER_START_SECONDS = 20.0
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PrimaryHooks:
    """ASGI wrapper of the primary's app: drain worker pipes first, bump the generation after writes."""

    def __init__(self, emulator: IdentityEmulator, segment: SharedSegment, inbox: Inbox) -> None:
        self.emulator = emulator
        self.segment = segment
        self.inbox = inbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.emulator.app(scope, receive, send)
        self.inbox.drain()
        if scope["method"] in READ_ONLY_METHODS:
            return await self.emulator.app(scope, receive, send)
        writes = scope["path"].startswith(("/v1", "/_emulator"))
        faults = self.emulator.faults
        rules_before = len(faults.rules())
        bumped = False

        def bump_if_changed() -> None:
            nonlocal bumped
            if not bumped and (writes or len(faults.rules()) != rules_before):
                bumped = True
                self.segment.bump()

        async def send_after_bump(message: Message) -> None:
            if message["type"] == "http.response.start":
                bump_if_changed()
            await send(message)

        try:
            await self.emulator.app(scope, receive, send_after_bump)
        finally:
            bump_if_changed()
        return None


class SnapshotApp:
    """The primary's Unix-socket app: the snapshot for workers, and the hooked app for forwarded requests."""

    def __init__(self, emulator: IdentityEmulator, segment: SharedSegment, app: ASGIApp) -> None:
        self.emulator = emulator
        self.segment = segment
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == SNAPSHOT_PATH:
            body = take_snapshot(self.emulator, self.segment.generation)
            headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@dataclass
class WorkerPool:
    """The worker processes of one primary: started, watched (a crash is reported on stderr), stopped."""

    runtime_dir: Path
    inbox: Inbox
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _life_fds: list[int] = field(default_factory=list)
    _stopping: bool = False

    def start(self, count: int, listen: socket.socket, base_url: str) -> None:
        for index in range(count):
            outbox_r, outbox_w = os.pipe()
            life_r, life_w = os.pipe()
            host, port = listen.getsockname()[:2]
            command = [
                sys.executable, "-m", "kongformance.identity.worker_process",
                "--host", host, "--port", str(port), "--outbox-fd", str(outbox_w), "--life-fd", str(life_r),
                "--runtime-dir", str(self.runtime_dir), "--base-url", base_url,
            ]  # fmt: skip
            process = subprocess.Popen(command, pass_fds=(outbox_w, life_r))
            os.close(outbox_w)
            os.close(life_r)
            self.inbox.add(outbox_r)
            self._life_fds.append(life_w)
            self.processes.append(process)
            threading.Thread(target=self._watch, args=(index + 1, process), daemon=True).start()

    def _watch(self, number: int, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if not self._stopping:
            print(
                f"kongformance: identity worker {number} (pid {process.pid}) exited with status {code}; "
                "the primary keeps serving",
                file=sys.stderr,
                flush=True,
            )

    def drain_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drain the pipes from ``loop`` whenever one is readable, so they never fill up while the primary
        has no requests of its own (a loop reader, not a thread: no GIL hand-over per worker token)."""
        for fd in self.inbox.fds():
            loop.add_reader(fd, self._drain, loop, fd)

    def _drain(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.inbox.drain()
        if fd not in self.inbox.fds():  # the worker is gone and its pipe closed
            loop.remove_reader(fd)

    async def started(self, timeout: float) -> None:
        """Wait until every worker accepts connections (or ``timeout`` real seconds: then say which did not)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.inbox.ready < len(self.processes) and loop.time() < deadline:
            await asyncio.sleep(0.01)  # waiting for other processes to start, not for virtual time
        if self.inbox.ready < len(self.processes):
            missing = len(self.processes) - self.inbox.ready
            print(
                f"kongformance: {missing} identity worker(s) not ready after {timeout:.0f} s", file=sys.stderr
            )

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self.inbox.close()
        for fd in self._life_fds:  # workers see EOF on their life pipe and shut down
            with contextlib.suppress(OSError):
                os.close(fd)
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """uvicorn shuts down on SIGTERM, then raises it again: end like Ctrl-C so workers are stopped and the
    runtime directory removed."""
    raise KeyboardInterrupt


def _uvicorn_config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=30,
        h11_max_incomplete_event_size=64 * 1024,
    )


__all__ = ["PrimaryRuntime", "bind_shared_port"]


class PrimaryRuntime:
    """The primary's shared state for its workers: a private runtime directory (Unix socket, mmap'd
    segment). Build the emulator on :attr:`clock`, then call :meth:`serve`."""

    def __init__(self) -> None:
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="kongformance-identity-"))
        self.segment = SharedSegment(self.runtime_dir / SEGMENT_FILE, owner=True)
        self.clock = self.segment.clock

    def serve(self, emulator: IdentityEmulator, listen: socket.socket, workers: int, announce: str) -> None:
        """Serve ``emulator`` from this process and ``workers - 1`` worker processes on ``listen`` (bound
        with :func:`bind_shared_port`) until interrupted; prints ``announce`` once everything is started."""
        try:
            self._serve(emulator, listen, workers, announce)
        finally:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def _serve(self, emulator: IdentityEmulator, listen: socket.socket, workers: int, announce: str) -> None:
        inbox = Inbox(emulator)
        hooked = PrimaryHooks(emulator, self.segment, inbox)
        uds = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        uds.bind(str(self.runtime_dir / PRIMARY_SOCKET))
        uds.listen(1024)
        pool = WorkerPool(self.runtime_dir, inbox)
        tcp_server = uvicorn.Server(_uvicorn_config(hooked))
        uds_server = uvicorn.Server(_uvicorn_config(SnapshotApp(emulator, self.segment, hooked)))

        async def main() -> None:
            serving = asyncio.gather(tcp_server.serve(sockets=[listen]), uds_server.serve(sockets=[uds]))
            while not (tcp_server.started and uds_server.started) and not serving.done():
                await asyncio.sleep(0.005)
            if not serving.done():
                pool.start(workers - 1, listen, emulator.public_base_url)
                pool.drain_on(asyncio.get_running_loop())
                await pool.started(timeout=WORKER_START_SECONDS)
                print(announce, flush=True)
            await serving

        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        try:
            with asyncio.Runner(loop_factory=new_event_loop) as runner:
                runner.run(main())
        finally:
            pool.stop()
            signal.signal(signal.SIGTERM, previous)
