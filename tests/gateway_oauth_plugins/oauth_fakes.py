"""Test doubles for the OAuth plugins' unit tests: a fake gateway runtime and a scriptable in-process IdP.

The runtime is a small implementation of ``GatewayRuntime`` with a real Clock, real DefectSwitches and a
real httpx.AsyncClient; the IdP is a Starlette app on loopback that records every request it receives and
answers what the test scripted (https://developer.konghq.com/plugins/upstream-oauth/ and https://developer.konghq.com/plugins/oauth2-introspection/ and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua).
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import kongformance
from kongformance.clock import Clock
from kongformance.defects import DefectSwitches, catalogue_of
from kongformance.gateway.plugins import oauth2, oauth2_introspection, upstream_oauth
from kongformance.gateway.plugins.base import Headers, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oauth2_store import Oauth2Store
from kongformance.serving import RunningServer

T = TypeVar("T")

CATALOGUE = catalogue_of(*oauth2_introspection.DEFECTS, *upstream_oauth.DEFECTS, *oauth2.DEFECTS)


@dataclass
class Recorded:
    """One request the IdP received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)


class Idp:
    """A scriptable IdP: ``/introspect`` and ``/token`` answer the next scripted response (or a default)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: dict[str, list[Scripted]] = {}
        self.default: dict[str, Scripted] = {}
        self.server: RunningServer | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        self.requests.append(
            Recorded(
                request.method,
                path,
                request.url.query,
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        queue = self.script.get(path) or []
        answer = queue.pop(0) if queue else self.default.get(path, Scripted(404, {"error": "not_found"}))
        if isinstance(answer.body, (dict, list)):
            content = json.dumps(answer.body).encode()
            headers = {"content-type": "application/json", **answer.headers}
        else:
            content = answer.body.encode() if isinstance(answer.body, str) else (answer.body or b"")
            headers = dict(answer.headers)
        return Response(content, status_code=answer.status, headers=headers)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def answer(
        self, path: str, status: int = 200, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Queue one response for ``path``."""
        self.script.setdefault(path, []).append(Scripted(status, body, headers or {}))

    def always(self, path: str, status: int = 200, body: Any = None) -> None:
        self.default[path] = Scripted(status, body)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def reset(self) -> None:
        self.requests.clear()
        self.script.clear()
        self.default.clear()


class FakeRuntime:
    """A minimal GatewayRuntime: clock, defects, version, an HTTP client, consumers and the oauth2 store."""

    def __init__(self, kong_version: tuple[int, int] = (3, 15)) -> None:
        self.clock = Clock()
        self.clock.freeze()
        self.defects = DefectSwitches(CATALOGUE)
        self.kong_version = kong_version
        self.http: httpx.AsyncClient = None  # type: ignore[assignment]  # set by run()
        self.consumers: list[dict[str, Any]] = []
        self.credentials: list[dict[str, Any]] = []
        self.trusted_ips: list[str] = []
        self._store = Oauth2Store(self.clock, self._credential_by_client_id)

    def _credential_by_client_id(self, client_id: str) -> Mapping[str, Any] | None:
        return next((c for c in self.credentials if c["client_id"] == client_id), None)

    def find_consumer(self, key: str) -> Mapping[str, Any] | None:
        return next((c for c in self.consumers if key in (c.get("id"), c.get("username"))), None)

    def find_consumer_by(self, field_name: str, value: str) -> Mapping[str, Any] | None:
        return next((c for c in self.consumers if c.get(field_name) == value), None)

    def list_consumers(self) -> list[Mapping[str, Any]]:
        return list(self.consumers)

    def find_credential(self, table: str, field_name: str, value: str) -> Mapping[str, Any] | None:
        """Only the oauth2 plugin's credentials exist here (``oauth2_credentials``)."""
        if table != "oauth2_credentials":
            return None
        return next((c for c in self.credentials if c.get(field_name) == value), None)

    def oauth2_store(self) -> Oauth2Store:
        return self._store

    def add_consumer(self, username: str | None = None, custom_id: str | None = None) -> dict[str, Any]:
        consumer = {"id": str(uuid.uuid4()), "username": username, "custom_id": custom_id}
        self.consumers.append(consumer)
        return consumer

    def add_credential(self, consumer: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        credential = {
            "id": str(uuid.uuid4()),
            "name": "app",
            "client_id": fields.pop("client_id", uuid.uuid4().hex),
            "client_secret": fields.pop("client_secret", uuid.uuid4().hex),
            "redirect_uris": fields.pop("redirect_uris", ["https://app.example/cb"]),
            "hash_secret": False,
            "client_type": "confidential",
            "consumer": {"id": consumer["id"]},
            **fields,
        }
        self.credentials.append(credential)
        return credential

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one plugin phase on a fresh event loop with a fresh HTTP client."""

        async def main() -> T:
            async with httpx.AsyncClient(verify=False) as client:
                self.http = client
                return await coroutine

        return asyncio.run(main())


def make_request(
    path: str = "/anything",
    *,
    method: str = "GET",
    scheme: str = "https",
    headers: list[tuple[str, str]] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: bytes | str | dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    client_ip: str = "127.0.0.1",
) -> ProxyRequest:
    """A downstream request; ``form`` url-encodes a body, a dict ``body`` is sent as JSON."""
    items = list(headers or [])
    data = b""
    if form is not None:
        data = urlencode(form).encode()
        items.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif isinstance(body, dict):
        data = json.dumps(body).encode()
        items.append(("Content-Type", "application/json"))
    elif isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    return ProxyRequest(
        method, scheme, "gateway.test", 443, path, list(query or []), Headers(items), data, client_ip
    )


def make_ctx(request: ProxyRequest, service_id: str = "svc-1") -> RequestContext:
    return RequestContext(request=request, route={"id": "route-1"}, service={"id": service_id, "name": "svc"})


_SCHEMAS = Path(kongformance.__file__).parent / "reference" / "kong-plugin-schemas-3.15"


def _defaults(schema: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(value)
    for name, sub in (schema.get("properties") or {}).items():
        if name not in out:
            if "default" in sub:
                out[name] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object" and "properties" in sub:
                out[name] = _defaults(sub, {})
        elif isinstance(out[name], Mapping) and "properties" in sub:
            out[name] = _defaults(sub, out[name])
    return out


def plugin_entity(schema_file: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """A plugin entity whose config carries the 3.15 schema defaults (as the gateway hands it to a plugin)."""
    schema = json.loads((_SCHEMAS / schema_file).read_text())
    return {"id": str(uuid.uuid4()), "config": _defaults(schema["properties"]["config"], config)}
