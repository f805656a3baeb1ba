"""The Konnect emulator: Kong Identity, one control plane and its data plane, behind Konnect's front door.

One API listener answers what ``https://{region}.api.konghq.com`` answers to the suite:

- ``/v1/...``: Kong Identity's management API (our identity emulator);
- ``/v2/control-planes``, ``/v2/control-planes/{id}``, ``.../nodes``, ``.../core-entities/...`` (the reference
  gateway's Admin API; its proxy listeners are the data plane);
- ``/{issuer_key}/auth/...``: the auth servers' issuer endpoints (real Konnect serves them on
  ``{key}.{region}.identity.konghq.com``; here on the API listener, one host).

Every ``/v1`` and ``/v2`` request must carry a Konnect token (:mod:`.guard`), stay under the API rate, and
conform to Kong's OpenAPI documents (:mod:`.openapi`); issuer endpoints are rate limited per auth server.
Every ``/_emulator`` path answers 404, as on Konnect, unless ``show_control`` (for debugging).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from kongformance.clock import Clock
from kongformance.hidden_control import is_control_path
from kongformance.konnect.control_planes import ControlPlane, answer
from kongformance.konnect.guard import (
    RateLimiter,
    bearer_token,
    problem,
    token_policy,
    too_many_requests,
    unauthorized,
)
from kongformance.konnect.openapi import Match, OpenApiDocument, konnect_documents
from kongformance.problem_json import PROBLEM_CONTENT_TYPE, problem_body

ISSUER_RATE = 100.0  # requests/s per auth server (Kong Identity's documented limit)
_ISSUER_PATH = re.compile(r"^/([^/]+)/auth(/|$)")
CONTROL_PLANES = "/v2/control-planes"

Scope = dict[str, Any]


async def _read_body(receive: Callable[[], Any]) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Any]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send_answer(send: Callable[[dict[str, Any]], Any], status: int, headers: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class KonnectEmulator:
    """Konnect's API in front of an identity emulator and a reference gateway (in DB mode)."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        kong_version: str = "3.15",
        accept_tokens: tuple[str, ...] = (),
        api_rate: float = 0.0,
        issuer_rate: float = ISSUER_RATE,
        show_control: bool = False,
        control_plane_id: str | None = None,
    ) -> None:
        from kongformance.gateway.app import ReferenceGateway
        from kongformance.gateway.proxy import full_version
        from kongformance.identity.app import IdentityEmulator

        self.clock = clock or Clock()
        self.accepts = token_policy(accept_tokens)
        self.identity = IdentityEmulator(clock=self.clock, accept_token=self.accepts)
        self.gateway = ReferenceGateway(clock=self.clock, kong_version=kong_version, db_less=False)
        self.control_plane = ControlPlane(kong_version=full_version(kong_version))
        if control_plane_id:
            self.control_plane.id = control_plane_id
        self.api_limits = RateLimiter(api_rate)
        self.issuer_limits = RateLimiter(issuer_rate)
        self.show_control = show_control
        self.documents: tuple[OpenApiDocument, ...] = konnect_documents()
        self.api_url = "http://127.0.0.1"
        self.requests = 0  # API requests answered (any status), for benchmarks and tests
        self.issuer_refusals = 0  # issuer requests answered 429 (over the rate per auth server)

    def set_public_base_url(self, url: str) -> None:
        """Where clients reach the API listener; issuer URLs derive from it."""
        self.api_url = url.rstrip("/")
        self.identity.set_public_base_url(self.api_url)

    def set_proxy_urls(self, urls: list[str]) -> None:
        self.control_plane.proxy_urls = list(urls)

    def close(self) -> None:
        close = getattr(self.gateway, "close", None)
        if callable(close):
            close()

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Callable[[], Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.identity.app(scope, receive, send)
            return
        path: str = scope["path"]
        if is_control_path(path):
            if self.show_control:
                await self.identity.app(scope, receive, send)
                return
            await _send_answer(send, *problem(404, "Not Found"))
            return
        if path.startswith(("/v1/", "/v2/")):
            await self._api(scope, receive, send)
            return
        issuer = _ISSUER_PATH.match(path)
        if issuer is not None:
            wait = self.issuer_limits.retry_after(issuer.group(1))
            if wait is not None:
                self.issuer_refusals += 1
                await _send_answer(send, *too_many_requests(wait))
                return
        await self.identity.app(scope, receive, send)

    async def _api(self, scope: Scope, receive: Callable[[], Any], send: Callable[..., Any]) -> None:
        self.requests += 1
        path: str = scope["path"]
        token = bearer_token(scope.get("headers", []))
        if token is None or not self.accepts(token):
            await _send_answer(send, *unauthorized(path, token))
            return
        wait = self.api_limits.retry_after(token)
        if wait is not None:
            await _send_answer(send, *too_many_requests(wait))
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        doc, match = self._match(method, path)
        if doc is None or match is None:
            await _send_answer(send, *problem(404, "Not Found"))
            return
        if match.operation is None:
            allowed = ", ".join(match.allowed).encode()
            status, headers, raw = problem(405, "Method Not Allowed")
            await _send_answer(send, status, [*headers, (b"allow", allowed)], raw)
            return
        query = _query(scope.get("query_string", b""))
        invalid = doc.validate(match, query, body)
        if invalid:
            await _send_answer(send, *_bad_request(invalid))
            return
        if path.startswith("/v1/"):
            await self.identity.app(scope, _replay(body), send)
            return
        await self._control_planes(scope, body, send)

    def _match(self, method: str, path: str) -> tuple[OpenApiDocument | None, Match | None]:
        """The document and operation for ``method path``; else the first document knowing the path."""
        fallback: tuple[OpenApiDocument | None, Match | None] = (None, None)
        for doc in self.documents:
            found = doc.match(method, path)
            if found is not None and found.operation is not None:
                return doc, found
            if found is not None and fallback[1] is None:
                fallback = (doc, found)
        return fallback

    async def _control_planes(self, scope: Scope, body: bytes, send: Callable[..., Any]) -> None:
        path: str = scope["path"]
        rest = path[len(CONTROL_PLANES) :]
        answered = answer(self.control_plane, self.api_url, scope["method"], rest)
        if answered is not None:
            await _send_answer(send, *answered)
            return
        below = rest.split("/core-entities", 1)[1]
        inner = dict(scope, path=below, raw_path=below.encode(), root_path="")
        await self.gateway.admin_app(inner, _replay(body), send)


def _query(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)


def _bad_request(invalid: list[dict[str, Any]]) -> tuple[int, Any, bytes]:
    body = problem_body(400, "Invalid Parameters", invalid)
    raw = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_CONTENT_TYPE.encode()), (b"content-length", str(len(raw)).encode())]
    return 400, headers, raw
