"""One token worker of ``serve identity --workers N`` (started by :mod:`kongformance.identity.workers`).

It binds the primary's port with SO_REUSEPORT. ``POST /{issuer_key}/auth/oauth/token`` is answered here,
signed inline on this process's core, from a snapshot of the primary's state (refreshed when the shared
generation moves); its token record and request-log entry reach the primary through the outbox pipe before
the response is sent. Everything else, and token requests while faults or defects are active, is forwarded
to the primary over its Unix socket unchanged. The worker exits when the primary's life pipe closes.

Run as ``python -m kongformance.identity.worker_process --host .. --port .. --outbox-fd .. --life-fd ..
--runtime-dir .. --base-url ..`` (not a user command).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path

import httpx
import uvicorn
from starlette.types import Message, Receive, Scope, Send

from kongformance.identity.app import IdentityEmulator
from kongformance.identity.interception import TOKEN_SUFFIX, DroppedConnection, TokenFastPath
from kongformance.identity.worker_state import (
    SEGMENT_FILE,
    Outbox,
    OutboxLog,
    SharedSegment,
    SnapshotApplier,
)
from kongformance.serving import new_event_loop

PRIMARY_SOCKET = "primary.sock"
SNAPSHOT_PATH = "/__kongformance_worker__/snapshot"
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"upgrade", b"content-length"}
)


def bind_shared_port(host: str, port: int) -> socket.socket:
    """A listening TCP socket with SO_REUSEPORT: each process of the emulator binds its own on one port,
    and the kernel spreads new connections over them (a shared socket lets one process accept them all)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


class Forwarder:
    """ASGI app that replays a request on the primary (Unix socket) and relays its answer unchanged."""

    def __init__(self, uds: str) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=uds), base_url="http://primary", timeout=None
        )

    async def fetch(self, path: str) -> bytes:
        response = await self.client.get(path)
        response.raise_for_status()
        return response.content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP]
        request = self.client.build_request(
            scope["method"], target.decode("latin-1"), headers=headers, content=b"".join(chunks)
        )
        try:
            response = await self.client.send(request)
        except httpx.RemoteProtocolError:  # the primary dropped the connection (fault drop_connection)
            await DroppedConnection()(scope, receive, send)
            return
        except httpx.TransportError:
            body = b'{"error":"temporarily_unavailable","error_description":"The emulator is stopping."}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        relayed = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower() not in (b"date", b"transfer-encoding", b"connection")
        ]
        await send({"type": "http.response.start", "status": response.status_code, "headers": relayed})
        await send({"type": "http.response.body", "body": response.content})


class WorkerApp:
    """The worker's ASGI app: local token fast path when allowed, the primary for everything else."""

    def __init__(
        self, emulator: IdentityEmulator, segment: SharedSegment, forwarder: Forwarder, outbox: Outbox
    ) -> None:
        self.segment = segment
        self.forwarder = forwarder
        self.outbox = outbox
        self.state = SnapshotApplier(emulator)
        self._refreshing: asyncio.Lock | None = None
        fast_path = emulator.app
        assert isinstance(fast_path, TokenFastPath)
        fast_path.interceptor.log = OutboxLog(outbox)
        emulator.store.record_token = outbox.record_token  # type: ignore[method-assign,assignment]  # primary keeps records
        self.tokens = TokenFastPath(forwarder, fast_path.interceptor, emulator.issuer.issue)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith(TOKEN_SUFFIX):
            if self.segment.generation != self.state.generation:
                await self._refresh()
            if self.state.local_tokens:
                outbox = self.outbox

                async def send_after_flush(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        outbox.flush()
                    await send(message)

                try:
                    await self.tokens(scope, receive, send_after_flush)
                finally:
                    outbox.flush()
                return
        await self.forwarder(scope, receive, send)

    async def _refresh(self) -> None:
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            while self.segment.generation != self.state.generation:
                self.state.apply(await self.forwarder.fetch(SNAPSHOT_PATH))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kongformance-identity-worker")
    parser.add_argument("--host", required=True)
    for name in ("--port", "--outbox-fd", "--life-fd"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--runtime-dir", type=Path, required=True)
    parser.add_argument("--base-url", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    segment = SharedSegment(args.runtime_dir / SEGMENT_FILE, owner=False)
    emulator = IdentityEmulator(clock=segment.clock, signing_threads=0, key_pool_size=0)
    emulator.set_public_base_url(args.base_url)
    outbox = Outbox(args.outbox_fd)
    forwarder = Forwarder(str(args.runtime_dir / PRIMARY_SOCKET))
    app = WorkerApp(emulator, segment, forwarder, outbox)
    sock = bind_shared_port(args.host, args.port)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=30,
        h11_max_incomplete_event_size=64 * 1024,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        def primary_gone() -> None:
            server.should_exit = True

        async def announce_when_started() -> None:
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.005)
            if server.started:
                outbox.announce_ready()

        asyncio.get_running_loop().add_reader(args.life_fd, primary_gone)
        announcing = asyncio.create_task(announce_when_started())
        await server.serve(sockets=[sock])
        announcing.cancel()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
