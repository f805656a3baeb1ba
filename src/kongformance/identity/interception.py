"""What happens to every issuer request before its handler: request logging and fault injection.

:class:`Interceptor` wraps a handler ``(request, server, body) -> Response`` into a Starlette endpoint that
resolves the auth server from the issuer key (through the directory), records the call, applies a matching fault (delay, scripted
answer or dropped connection) and records the status it answered with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from kongformance.clock import Clock
from kongformance.identity.directory import IssuerDirectory
from kongformance.identity.faults import FaultInjector, FaultRule
from kongformance.identity.request_log import RequestLog
from kongformance.identity.store import AuthServer

Handler = Callable[[Request, AuthServer, bytes], Awaitable[Response]]
MAX_BODY_BYTES = 64 * 1024


class DroppedConnection(Response):
    """Closes the client connection without sending a response (fault ``drop_connection``)."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(receive, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is not None:  # uvicorn: abort the socket, then let uvicorn see the disconnect
            transport.abort()
            for _ in range(3):
                await asyncio.sleep(0)
            return
        # any other server: start a response it cannot complete, which makes it close the connection
        await send({"type": "http.response.start", "status": 502, "headers": [(b"content-length", b"1")]})


def fault_response(rule: FaultRule) -> Response:
    """The scripted answer of a fault that replaces the endpoint's response."""
    if rule.drop_connection:
        return DroppedConnection()
    body, content_type = rule.response_body()
    headers = dict(rule.headers)
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    assert rule.status is not None
    return Response(body, status_code=rule.status, headers=headers)


class Interceptor:
    """Binds issuer handlers to the store (issuer key lookup), the request log and the fault injector."""

    def __init__(
        self, directory: IssuerDirectory, clock: Clock, log: RequestLog, faults: FaultInjector
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.log = log
        self.faults = faults

    def endpoint(self, name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint for issuer endpoint ``name`` (one of faults.ENDPOINTS)."""

        async def serve(request: Request) -> Response:
            server = self.directory.server(request.path_params.get("issuer_key", ""))
            server_id = server.id if server is not None else None
            body = await _read_body(request)
            scope: MutableMapping[str, Any] = request.scope
            entry = self.log.record(
                {
                    "endpoint": name,
                    "auth_server_id": server_id,
                    "method": request.method,
                    "path": scope.get("path", ""),
                    "query": scope.get("query_string", b""),
                    "headers": list(scope.get("headers", [])),
                    "body": body or b"",
                    "time": self.clock.now(),
                }
            )
            rule = self.faults.take(name, server_id)
            if rule is not None:
                entry.fault_id = rule.id
                if rule.latency_ms:
                    await asyncio.sleep(rule.latency_ms / 1000)  # injected network delay, real time
                if rule.replaces_response:
                    response = fault_response(rule)
                    entry.status = None if rule.drop_connection else response.status_code
                    return response
            if body is None:
                response = JSONResponse(
                    {"error": "invalid_request", "error_description": "The request body is too large."}, 413
                )
            elif server is None:
                response = JSONResponse(
                    {"error": "not_found", "error_description": "No authorization server at this issuer."},
                    404,
                )
            else:
                response = await handler(request, server, body)
            entry.status = response.status_code
            return response

        return serve


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it exceeds :data:`MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
