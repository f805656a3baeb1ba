"""What happens to every issuer request before its handler: request logging and fault injection.

:class:`Interceptor` wraps a handler ``(request, server, body) -> Response`` into a Starlette endpoint that
resolves the auth server from the issuer key (through the directory), records the call, applies a matching fault (delay, scripted
answer or dropped connection) and records the status it answered with. :class:`TokenFastPath` does the same
for the token endpoint at the ASGI level, in front of Starlette's router, because that is the hot path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kongformance.clock import Clock
from kongformance.identity.directory import IssuerDirectory
from kongformance.identity.faults import FaultInjector, FaultRule
from kongformance.identity.oauth_errors import OAuthError
from kongformance.identity.request_log import LoggedRequest, RequestLog
from kongformance.identity.store import AuthServer

Handler = Callable[[Request, AuthServer, bytes], Awaitable[Response]]
TokenIssuer = Callable[[AuthServer, bytes, str | None, str | None], Awaitable[bytes]]
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

    async def before(
        self, name: str, server: AuthServer | None, scope: MutableMapping[str, Any], body: bytes | None
    ) -> tuple[LoggedRequest, Response | None]:
        """Log the call and apply faults; returns the log entry and an answer that replaces the handler's
        (a fault, 413 for an oversized body, 404 for an unknown issuer), or None to call the handler."""
        entry = self.log.record(
            {
                "endpoint": name,
                "auth_server_id": server.id if server is not None else None,
                "method": scope["method"],
                "path": scope.get("path", ""),
                "query": scope.get("query_string", b""),
                "headers": list(scope.get("headers", [])),
                "body": body or b"",
                "time": self.clock.now(),
            }
        )
        rule = self.faults.take(name, entry.auth_server_id)
        if rule is not None:
            entry.fault_id = rule.id
            if rule.latency_ms:
                await asyncio.sleep(rule.latency_ms / 1000)  # injected network delay, real time
            if rule.replaces_response:
                scripted = fault_response(rule)
                entry.status = None if rule.drop_connection else scripted.status_code
                return entry, scripted
        if body is None:
            response: Response = JSONResponse(
                {"error": "invalid_request", "error_description": "The request body is too large."}, 413
            )
        elif server is None:
            response = JSONResponse(
                {"error": "not_found", "error_description": "No authorization server at this issuer."}, 404
            )
        else:
            return entry, None
        entry.status = response.status_code
        return entry, response

    def endpoint(self, name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint for issuer endpoint ``name`` (one of faults.ENDPOINTS)."""

        async def serve(request: Request) -> Response:
            server = self.directory.server(request.path_params.get("issuer_key", ""))
            body = await _read_body(request)
            entry, answer = await self.before(name, server, request.scope, body)
            if answer is not None:
                return answer
            assert server is not None and body is not None
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


TOKEN_SUFFIX = "/auth/oauth/token"
TOKEN_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"content-type", b"application/json"),
]
"""Headers of a token answer, as the Starlette path sends them (oauth_errors.NO_STORE, JSON)."""


class _Disconnected(Exception):
    """The client went away before its request body arrived."""


async def _receive_body(receive: Receive) -> bytes | None:
    """The body of an ASGI request, or None when it exceeds :data:`MAX_BODY_BYTES`."""
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        if message["type"] == "http.disconnect":
            raise _Disconnected
        return body if len(body) <= MAX_BODY_BYTES else None
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class TokenFastPath:
    """ASGI front door: ``POST /{issuer_key}/auth/oauth/token`` goes straight to the token handler, past
    Starlette's routing and Request objects (the same interceptor, log and faults); anything else goes to
    ``app``. ``issue(server, body, content_type, authorization)`` returns the JSON answer of a token grant,
    or raises OAuthError."""

    def __init__(self, app: ASGIApp, interceptor: Interceptor, issue: TokenIssuer) -> None:
        self.app = app
        self.interceptor = interceptor
        self.issue = issue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.endswith(TOKEN_SUFFIX)
            or scope.get("root_path")
        ):
            return await self.app(scope, receive, send)
        issuer_key = path[1 : -len(TOKEN_SUFFIX)]
        if not issuer_key or "/" in issuer_key:
            return await self.app(scope, receive, send)
        server = self.interceptor.directory.server(issuer_key)
        try:
            body = await _receive_body(receive)
        except _Disconnected:
            return None
        entry, answer = await self.interceptor.before("token", server, scope, body)
        if answer is None:
            assert server is not None and body is not None
            headers = scope["headers"]
            try:
                payload = await self.issue(
                    server, body, _header(headers, b"content-type"), _header(headers, b"authorization")
                )
            except OAuthError as err:
                answer = err.response()
                entry.status = answer.status_code
            else:
                entry.status = 200
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [*TOKEN_HEADERS, (b"content-length", b"%d" % len(payload))],
                    }
                )
                await send({"type": "http.response.body", "body": payload})
                return None
        await answer(scope, receive, send)
        return None
