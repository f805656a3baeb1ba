"""Run ASGI apps on loopback: in a background thread (fixtures, ``serve stack``) or in the foreground (CLI).

uvicorn does the HTTP work; this module only binds a socket first (so port 0 works and the real port is
known before the app starts), starts the server in a thread, and waits until it is accepting.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    """A server started by :func:`start_in_thread`; ``stop()`` shuts it down."""

    host: str
    port: int
    scheme: str
    _server: uvicorn.Server
    _thread: threading.Thread
    _sock: socket.socket = field(repr=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.close()


_loop_closers: dict[int, list[Callable[[], Awaitable[None]]]] = {}
_closers_lock = threading.Lock()


def at_loop_shutdown(closer: Callable[[], Awaitable[None]]) -> None:
    """Await ``closer`` on the running loop when the server thread serving it stops (:func:`start_in_thread`).

    For clients an app opens on its server's loop (the gateway's IdP and upstream pools): left open, their
    sockets make the loop's close fail (EBUSY) and leak (ResourceWarning).
    """
    loop = asyncio.get_running_loop()
    with _closers_lock:
        _loop_closers.setdefault(id(loop), []).append(closer)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (uvicorn[standard] brings it; ~15 us less per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] is a dependency
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class ListenError(OSError):
    """A listener could not be opened; the message names the address and port (one line for the CLI)."""

    def __init__(self, host: str, port: int, reason: object) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host, self.port = host, port


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free port); :class:`ListenError` if it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    except OSError as exc:
        raise ListenError(host, port, exc.strerror or exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:
        sock.close()
        raise ListenError(host, port, getattr(exc, "strerror", None) or exc) from None
    sock.set_inheritable(True)
    return sock


def bind_all(listeners: list[tuple[str, int]]) -> list[socket.socket]:
    """Bind every ``(host, port)`` or none: on a failure the sockets already bound are closed again."""
    bound: list[socket.socket] = []
    try:
        for host, port in listeners:
            bound.append(bind_socket(host, port))
    except ListenError:
        for sock in bound:
            sock.close()
        raise
    return bound


def shown_url(scheme: str, sock: socket.socket) -> str:
    """The URL of a bound socket, with its real port (port 0 resolved)."""
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _config(
    app: Any,
    sock: socket.socket,
    certfile: str | None,
    keyfile: str | None,
    date_header: bool = True,
    log_level: str = "warning",
) -> uvicorn.Config:
    host, port = sock.getsockname()[:2]
    kwargs: dict[str, Any] = {}
    if certfile:
        kwargs.update(ssl_certfile=certfile, ssl_keyfile=keyfile, ssl_cert_reqs=ssl.CERT_NONE)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        proxy_headers=False,  # the gateway must see the real scheme and peer, as Kong does
        server_header=False,
        date_header=date_header,
        timeout_keep_alive=30,
        h11_max_incomplete_event_size=64 * 1024,
        **kwargs,
    )


def start_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    ready_timeout: float = 10.0,
    date_header: bool = True,
) -> RunningServer:
    """Serve ``app`` from a daemon thread; return once the socket accepts connections.

    When the server stops, what the app registered with :func:`at_loop_shutdown` runs on the server's loop
    before it closes.

    ``date_header=False`` leaves the Date header to the app (the gateway proxy passes the upstream's through,
    as Kong's nginx does).
    """
    sock = bind_socket(host, port)
    # in-process servers answer the suites' malformed requests on purpose: uvicorn's per-request warnings
    # ("Invalid HTTP request received") would only clutter a passing run, so only errors are logged
    server = uvicorn.Server(_config(app, sock, certfile, keyfile, date_header, log_level="error"))
    ready = threading.Event()

    def run() -> None:
        loop = new_event_loop()
        asyncio.set_event_loop(loop)

        async def main() -> None:
            await server.serve(sockets=[sock])

        task = loop.create_task(main())
        while not server.started and not task.done():
            loop.run_until_complete(asyncio.sleep(0.002))
        ready.set()
        loop.run_until_complete(task)
        with _closers_lock:
            closers = _loop_closers.pop(id(loop), [])
        for closer in closers:
            loop.run_until_complete(closer())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name=f"kongformance-server-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    if not ready.wait(ready_timeout) or not server.started:
        server.should_exit = True
        raise RuntimeError(f"server on {host}:{sock.getsockname()[1]} did not start within {ready_timeout}s")
    bound_host, bound_port = sock.getsockname()[:2]
    return RunningServer(
        host=bound_host,
        port=bound_port,
        scheme="https" if certfile else "http",
        _server=server,
        _thread=thread,
        _sock=sock,
    )


def serve_forever(
    apps: list[tuple[Any, str, int, str | None, str | None]], *, date_header: bool = True
) -> None:
    """Serve several apps ``(app, host, port, certfile, keyfile)`` in the foreground until interrupted."""
    bound = [(app, bind_socket(host, port), cert, key) for app, host, port, cert, key in apps]
    serve_sockets_forever(bound, date_header=date_header)


def serve_sockets_forever(
    apps: list[tuple[Any, socket.socket, str | None, str | None]], *, date_header: bool = True
) -> None:
    """Serve apps on sockets already bound ``(app, sock, certfile, keyfile)`` until interrupted."""

    async def main() -> None:
        servers = [
            (uvicorn.Server(_config(app, sock, cert, key, date_header)), sock)
            for app, sock, cert, key in apps
        ]
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
