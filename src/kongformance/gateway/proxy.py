"""The reference gateway's proxy: a plain ASGI app serving both the HTTP and the HTTPS listener.

Per request: size checks (Kong's header buffers), route match on the precompiled table, 426 for plain
HTTP on an https-only route, the route's plugin chain (access phase; an :class:`Exit` ends the request and
the upstream is never called), the upstream call through one keep-alive httpx client, ``header_filter`` on
the upstream response, and Kong's response headers. Errors are answered in Kong's format, never as a
traceback.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from kongformance.gateway.defects import HTTPS_ONLY_ROUTE_SERVED_OVER_HTTP, STRIP_PATH_IGNORED
from kongformance.gateway.plugins.base import Exit, Headers, ProxyRequest, RequestContext, UpstreamResponse
from kongformance.gateway.responses import MESSAGES, error_body, exit_headers, http_date, negotiate
from kongformance.gateway.router import upstream_path
from kongformance.gateway.runtime import Runtime

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HEADER_LINE_LIMIT = 8 * 1024  # nginx large_client_header_buffers 4 8k (Kong's default)
HEADERS_TOTAL_LIMIT = 4 * 8 * 1024
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
NO_ROUTE = "no Route matched with those values"


def full_version(kong_version: str) -> str:
    """The version string Kong reports: ``3.9`` -> ``3.9.0``, ``3.15`` -> ``3.15.0.0`` (Enterprise)."""
    parts = kong_version.split(".")
    if len(parts) >= 3:
        return kong_version
    major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    return f"{major}.{minor}.0" if (major, minor) < (3, 10) else f"{major}.{minor}.0.0"


class ProxyApp:
    """ASGI app of the proxy listeners; ``scope["scheme"]`` tells HTTP from HTTPS."""

    def __init__(self, runtime: Runtime, kong_version: str) -> None:
        self.runtime = runtime
        self.version = full_version(kong_version)
        self.server = f"kong/{self.version}"
        self.via = f"1.1 kong/{self.version}" if runtime.kong_version >= (3, 6) else f"kong/{self.version}"
        self.request_id_in_errors = runtime.kong_version >= (3, 6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request_id = os.urandom(16).hex()
        started_response = False

        async def tracked(message: MutableMapping[str, Any]) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._handle(scope, receive, tracked, started, request_id)
        except Exception as exc:  # Kong answers an internal error as 500 in its own format
            # type and place only: an exception message may carry a token or a secret
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f"{frame.filename}:{frame.lineno}" if frame else "?"
            log.error("proxy: unexpected %s at %s (request %s)", type(exc).__name__, where, request_id)
            if not started_response:
                await self._kong_error(send, 500, started, request_id, scope)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, started: float, request_id: str
    ) -> None:
        raw_headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        total = 0
        for name, value in raw_headers:
            line = len(name) + len(value) + 4
            total += line
            if line > HEADER_LINE_LIMIT or total > HEADERS_TOTAL_LIMIT:
                # nginx's 494 (header buffers exhausted) reaches the client as 400 "Bad request"
                await self._kong_error(send, 400, started, request_id, scope)
                return
        headers = Headers([(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw_headers])
        host = headers.get("host")
        if not host:
            await self._kong_error(send, 400, started, request_id, scope)
            return
        if scope["method"] == "TRACE":
            await self._kong_error(send, 405, started, request_id, scope)
            return
        scheme = scope.get("scheme", "http")
        method = scope["method"]
        raw_path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0] or b"/"
        path = raw_path.decode("latin-1")
        snapshot = self.runtime.snapshot
        lower = {k.lower(): v for k, v in headers.items()}
        match = snapshot.router.match(scheme, method, host, path, lower)
        if match is None:
            await self._kong_error(send, 404, started, request_id, scope, NO_ROUTE)
            return
        route, service = match.route, match.service
        protocols = route.get("protocols") or []
        if (
            scheme == "http"
            and "http" not in protocols
            and "https" in protocols
            and not self.runtime.defects.on(HTTPS_ONLY_ROUTE_SERVED_OVER_HTTP)
        ):
            query_string = scope.get("query_string", b"")
            request_uri = raw_path + (b"?" + query_string if query_string else b"")
            await self._https_required(send, route, host, request_uri, started, request_id)
            return
        if service is None:
            await self._kong_error(
                send, 503, started, request_id, scope, "no Service found with those values"
            )
            return
        body = await _read_body(receive)
        client = scope.get("client") or ("127.0.0.1", 0)
        server = scope.get("server") or ("127.0.0.1", 80)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query = parse_qsl(raw_query, keep_blank_values=True)
        request = ProxyRequest(
            method=method,
            scheme=scheme,
            host=host.rsplit(":", 1)[0] if host.count(":") == 1 else host,
            port=int(server[1] or 0),
            path=path,
            query=query,
            headers=headers,
            body=body,
            client_ip=str(client[0]),
        )
        ctx = RequestContext(request=request, route=route, service=service)
        chain = self.runtime.chain(snapshot, route, service, scheme)
        for plugin in chain:
            early = await plugin.access(ctx)
            if early is not None:
                await self._send_exit(send, early, started, request_id)
                return
        proxy_done = time.perf_counter()
        strip = bool(route.get("strip_path")) and not self.runtime.defects.on(STRIP_PATH_IGNORED)
        target = upstream_path(route, service.get("path"), request.path, match.matched_prefix, strip)
        outgoing = self._upstream_headers(request, route, service, host, match.matched_prefix, request_id)
        url = f"{service.get('protocol', 'http')}://{service['host']}:{service.get('port') or 80}{target}"
        if request.query == query:  # untouched by the plugins: forward the client's query string as sent
            url += "?" + raw_query if raw_query else ""
        elif request.query:
            url += "?" + urlencode(request.query)
        timeout = httpx.Timeout(
            connect=(service.get("connect_timeout") or 60000) / 1000,
            read=(service.get("read_timeout") or 60000) / 1000,
            write=(service.get("write_timeout") or 60000) / 1000,
            pool=(service.get("connect_timeout") or 60000) / 1000,
        )
        client_http = self.runtime.upstream
        try:
            upstream_req = client_http.build_request(
                request.method,
                url,
                headers=_raw_headers(outgoing),
                content=request.body or None,
                timeout=timeout,
            )
            response = await client_http.send(upstream_req, stream=True)
            try:
                content = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            await self._kong_error(send, 504, started, request_id, scope)
            return
        except (httpx.HTTPError, OSError, ValueError):
            await self._kong_error(send, 502, started, request_id, scope)
            return
        upstream_done = time.perf_counter()
        resp_headers = Headers(
            [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        )
        upstream_response = UpstreamResponse(status=response.status_code, headers=resp_headers, body=content)
        for plugin in chain:
            await plugin.header_filter(ctx, upstream_response)
        out = upstream_response.headers
        if request.method != "HEAD" or "content-length" not in response.headers:
            out.set("Content-Length", str(len(upstream_response.body)))
        else:
            out.set("Content-Length", response.headers["content-length"])
        out.set("X-Kong-Upstream-Latency", str(int((upstream_done - proxy_done) * 1000)))
        out.set("X-Kong-Proxy-Latency", str(int((proxy_done - started) * 1000)))
        out.add("Via", self.via)
        if out.get("server") is None:  # Kong's header_filter: kong/<version> when the upstream sent none
            out.set("Server", self.server)
        if out.get("date") is None:  # nginx passes the upstream's Date (proxy_pass_header) or adds its own
            out.set("Date", http_date(self.runtime.clock.now()))
        out.set("X-Kong-Request-Id", request_id)
        await _respond(send, upstream_response.status, out.items(), upstream_response.body)

    def _upstream_headers(
        self, request: ProxyRequest, route: Any, service: Any, host: str, prefix: str, request_id: str
    ) -> Headers:
        out = Headers(
            [
                (k, v)
                for k, v in request.headers.items()
                if k.lower() not in HOP_BY_HOP and k.lower() != "host"
            ]
        )
        port = service.get("port") or 80
        default_port = 443 if service.get("protocol") == "https" else 80
        upstream_host = service["host"] if port == default_port else f"{service['host']}:{port}"
        out.set("Host", host if route.get("preserve_host") else upstream_host)
        forwarded_for = request.headers.get("x-forwarded-for")
        out.set(
            "X-Forwarded-For", f"{forwarded_for}, {request.client_ip}" if forwarded_for else request.client_ip
        )
        own = {
            "X-Forwarded-Proto": request.scheme,
            "X-Forwarded-Host": request.host,
            "X-Forwarded-Port": str(request.port),
            "X-Forwarded-Path": request.path,
        }
        if prefix and route.get("strip_path"):
            own["X-Forwarded-Prefix"] = prefix
        trusted = self.runtime.is_trusted(request.client_ip)
        for name, value in own.items():  # a trusted client's own X-Forwarded-* values are kept (Kong)
            if not (trusted and request.headers.get(name)):
                out.set(name, value)
        out.set("X-Real-IP", request.client_ip)
        out.set("X-Kong-Request-Id", request_id)
        return out

    async def _https_required(
        self, send: Send, route: Any, host: str, raw_path: bytes, started: float, request_id: str
    ) -> None:
        code = int(route.get("https_redirect_status_code") or 426)
        if code == 426:
            exit_ = Exit(
                426,
                {"message": "Please use HTTPS protocol"},
                {"Connection": "Upgrade", "Upgrade": "TLS/1.2, HTTP/1.1"},
            )
        else:
            hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
            exit_ = Exit(code, None, {"Location": f"https://{hostname}{raw_path.decode('latin-1')}"})
        await self._send_exit(send, exit_, started, request_id)

    async def _kong_error(
        self,
        send: Send,
        status: int,
        started: float,
        request_id: str,
        scope: Scope,
        message: str | None = None,
    ) -> None:
        """Kong's own error response, in the format the client's Accept header asks for."""
        accept = content_type = None
        for name, value in scope.get("headers") or []:
            low = name.lower()
            if low == b"accept" and accept is None:
                accept = value.decode("latin-1")
            elif low == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        fmt = negotiate(accept, content_type)
        text = message or MESSAGES.get(status, MESSAGES[500])
        body, ctype = error_body(fmt, text, request_id if self.request_id_in_errors else None)
        await self._send_exit(send, Exit(status, body, {"Content-Type": ctype}), started, request_id)

    async def _send_exit(self, send: Send, exit_: Exit, started: float, request_id: str) -> None:
        """A response generated by the gateway itself, with Kong's headers."""
        try:
            payload, extra = exit_.encoded()
        except (TypeError, ValueError):
            payload, extra = json.dumps({"message": "An unexpected error occurred"}).encode(), {}
        headers = exit_headers(
            list(extra.items()),
            body_length=len(payload),
            server=self.server,
            now=self.runtime.clock.now(),
            latency_ms=int((time.perf_counter() - started) * 1000),
            request_id=request_id,
        )
        await _respond(send, exit_.status, headers, payload)


def _encode(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # a plugin set a non-Latin-1 value: send its UTF-8 bytes, as nginx would
        return value.encode("utf-8")


def _raw_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Header bytes exactly as received (httpx would refuse non-ASCII str values)."""
    return [(_encode(k), _encode(v)) for k, v in headers.items()]


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in headers
        if k.lower() not in ("transfer-encoding",)
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
