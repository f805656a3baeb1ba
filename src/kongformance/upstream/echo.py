"""The echo upstream: an httpbin-compatible ``/anything`` plus a log of every request that reached it.

Conformance tests send a request through the gateway and then check what the upstream received (headers
a plugin added or removed, the token upstream-oauth fetched) or that nothing arrived at all. The echo
answers like httpbin (``/anything``, ``/anything/{path}``, ``/status/{code}``, ``/headers``) and records
each request; the log is read and cleared at ``/_emulator/requests`` or through :class:`RequestLog`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kongformance.clock import Clock

DEFAULT_LOG_SIZE = 10_000
CONTROL_PREFIX = "/_emulator"


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the upstream received it: raw headers in order, body as text or base64."""

    seq: int
    time: float
    method: str
    scheme: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: str
    body_base64: bool
    client: str

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["headers"] = [list(h) for h in self.headers]
        return out


class RequestLog:
    """A bounded, thread-safe log of the requests the echo upstream received (oldest dropped first)."""

    def __init__(self, maxlen: int = DEFAULT_LOG_SIZE) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def append(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        *,
        path_prefix: str | None = None,
        method: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        since: int = 0,
    ) -> list[LoggedRequest]:
        """Logged requests, oldest first, matching every given filter (header values match exactly)."""
        with self._lock:
            found = list(self._entries)
        wanted = [(k.lower(), v) for k, v in headers]
        return [
            e
            for e in found
            if e.seq > since
            and (path_prefix is None or e.path.startswith(path_prefix))
            and (method is None or e.method == method.upper())
            and all(any(k.lower() == hk and v == hv for k, v in e.headers) for hk, hv in wanted)
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "title": "Bad Request", "detail": detail}, status_code=status)


def _httpbin_headers(raw: list[tuple[str, str]]) -> dict[str, str]:
    """httpbin's view of the headers: title-cased names, repeated headers joined with a comma."""
    out: dict[str, str] = {}
    for k, v in raw:
        name = "-".join(part.capitalize() for part in k.split("-"))
        out[name] = f"{out[name]},{v}" if name in out else v
    return out


def _multi_dict(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """httpbin's args/form shape: a single value as a string, repeated keys as a list."""
    out: dict[str, str | list[str]] = {}
    for k, v in pairs:
        if k not in out:
            out[k] = v
        else:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
    return out


def _body_text(body: bytes) -> tuple[str, bool]:
    """The body as UTF-8 text, or base64 (flagged) when it is not valid UTF-8."""
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


class EchoUpstream:
    """The echo upstream app; ``.app`` is the ASGI app and ``.log`` its :class:`RequestLog`."""

    def __init__(self, clock: Clock | None = None, *, log_size: int = DEFAULT_LOG_SIZE) -> None:
        self.clock = clock or Clock()
        self.log = RequestLog(log_size)
        self.app = Starlette(
            routes=[
                Route(CONTROL_PREFIX + "/requests", self._control_requests, methods=["GET", "DELETE"]),
                Route("/{path:path}", self._serve, methods=_ALL_METHODS),
            ]
        )

    async def _record(self, request: Request) -> tuple[LoggedRequest, bytes]:
        body = await request.body()
        text, is_b64 = _body_text(body)
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        entry = LoggedRequest(
            seq=self.log.next_seq(),
            time=self.clock.now(),
            method=request.method,
            scheme=request.url.scheme,
            path=request.url.path,
            query_string=request.url.query,
            headers=raw_headers,
            body=text,
            body_base64=is_b64,
            client=request.client.host if request.client else "",
        )
        self.log.append(entry)
        return entry, body

    async def _serve(self, request: Request) -> Response:
        entry, body = await self._record(request)
        path = entry.path
        if path == "/anything" or path.startswith("/anything/"):
            return JSONResponse(self._anything(request, entry, body))
        if path.startswith("/status/"):
            return _status(path[len("/status/") :])
        if path == "/headers":
            return JSONResponse({"headers": _httpbin_headers(entry.headers)})
        if path == "/get" and entry.method in ("GET", "HEAD"):
            doc = self._anything(request, entry, body)
            return JSONResponse({k: doc[k] for k in ("args", "headers", "origin", "url")})
        return JSONResponse({"message": "no such path on the echo upstream", "path": path}, status_code=404)

    def _anything(self, request: Request, entry: LoggedRequest, body: bytes) -> dict[str, Any]:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        form: dict[str, str | list[str]] = {}
        parsed_json: Any = None
        data = "" if not entry.body_base64 else f"data:application/octet-stream;base64,{entry.body}"
        if content_type == "application/x-www-form-urlencoded" and not entry.body_base64:
            form = _multi_dict(parse_qsl(entry.body, keep_blank_values=True))
        else:
            if not entry.body_base64:
                data = entry.body
            if body:
                try:
                    parsed_json = json.loads(body)
                except ValueError:
                    parsed_json = None
        return {
            "args": _multi_dict(parse_qsl(entry.query_string, keep_blank_values=True)),
            "data": data,
            "files": {},
            "form": form,
            "headers": _httpbin_headers(entry.headers),
            "json": parsed_json,
            "method": entry.method,
            "origin": request.headers.get("x-forwarded-for", entry.client),
            "url": str(request.url),
        }

    async def _control_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
            return Response(status_code=204)
        q = request.query_params
        headers: list[tuple[str, str]] = []
        for spec in q.getlist("header"):
            name, sep, value = spec.partition(":")
            if not sep or not name.strip():
                return _problem(400, f"header filter must be NAME:VALUE, got {spec!r}")
            headers.append((name.strip(), value.strip()))
        try:
            since = int(q.get("since", "0"))
        except ValueError:
            return _problem(400, "since must be an integer sequence number")
        found = self.log.entries(
            path_prefix=q.get("path_prefix"), method=q.get("method"), headers=headers, since=since
        )
        return JSONResponse({"count": len(found), "requests": [e.to_json() for e in found]})


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

# httpbin adds these to some status answers (httpbin/helpers.py status_code).
_REDIRECTS = {301, 302, 303, 305, 307}


def _status(raw: str) -> Response:
    """httpbin's ``/status/{code}``: answer that status (401 with a Basic challenge, redirects to /redirect/1)."""
    try:
        code = int(raw)
    except ValueError:
        return _problem(400, f"invalid status code {raw!r}")
    if not 200 <= code <= 599:  # 1xx cannot be a final answer over HTTP/1.1
        return _problem(400, f"invalid status code {raw!r}")
    headers: dict[str, str] = {}
    if code in _REDIRECTS:
        headers["Location"] = "/redirect/1"
    elif code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Fake Realm"'
    elif code == 407:
        headers["Proxy-Authenticate"] = 'Basic realm="Fake Realm"'
    return Response(status_code=code, headers=headers)
