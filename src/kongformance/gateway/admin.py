"""The reference gateway's Admin API (a Kong 3.x compatible subset) as a Starlette app.

``GET /`` and ``/status``; CRUD on services, routes, plugins (global, per service, per route, per
consumer), consumers and consumer credentials (``/consumers/{c}/oauth2``, ``/consumers/{c}/jwt``), the oauth2
plugin's tokens (``/oauth2_tokens``, admin_oauth2_tokens.py) with
Kong's pagination and error bodies; DB-less ``/config`` (declarative.py). In DB-less mode CRUD writes
answer 405 as Kong does. JSON and form-encoded bodies are accepted (form values coerced per schema).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kongformance.gateway import declarative
from kongformance.gateway import plugins as registry
from kongformance.gateway.admin_oauth2_tokens import token_routes
from kongformance.gateway.entities import KINDS
from kongformance.gateway.forms import coerce_for_table, parse_form
from kongformance.gateway.runtime import Runtime
from kongformance.gateway.schemas import KongError, not_found

Handler = Callable[[Request], Awaitable[Response]]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# nested collection segment -> (child table, foreign-key field on the child, parent table)
NESTED: dict[str, tuple[str, str, str]] = {
    "services/routes": ("routes", "service", "services"),
    "services/plugins": ("plugins", "service", "services"),
    "routes/plugins": ("plugins", "route", "routes"),
    "consumers/plugins": ("plugins", "consumer", "consumers"),
    "consumers/oauth2": ("oauth2_credentials", "consumer", "consumers"),
    "consumers/jwt": ("jwt_secrets", "consumer", "consumers"),
}
TOP_LEVEL: dict[str, str] = {
    "services": "services",
    "routes": "routes",
    "plugins": "plugins",
    "consumers": "consumers",
    "oauth2": "oauth2_credentials",
    "jwts": "jwt_secrets",
}


def kong_json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), default=str),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def config_hash(runtime: Runtime) -> str:
    """Kong's ``configuration_hash``: zeros before any config, then a digest of the loaded entities."""
    if runtime.store.config_hash:
        return runtime.store.config_hash
    if runtime.store.generation == 0:
        return "0" * 32
    raw = json.dumps(runtime.store.tables, sort_keys=True, default=str).encode()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


class AdminApi:
    """Builds the Admin API Starlette app over one :class:`Runtime`."""

    def __init__(
        self, runtime: Runtime, kong_version: str, full_version: str, extra_routes: list[BaseRoute]
    ) -> None:
        self.runtime = runtime
        self.kong_version = kong_version
        self.full_version = full_version
        self.node_id = "4d6c7b2e-8c1f-4f1a-9f3e-0b7a1c2d3e4f"
        routes: list[BaseRoute] = [
            Route("/", self.root, methods=["GET"]),
            Route("/status", self.status, methods=["GET"]),
            Route("/config", self.get_config, methods=["GET"]),
            Route("/config", self.post_config, methods=["POST"]),
            Route("/plugins/enabled", self.plugins_enabled, methods=["GET"]),
            *extra_routes,
            *token_routes(runtime, self._page, kong_json, lambda r: _body(r, None), self._refuse_writes),
        ]
        for segment, table in TOP_LEVEL.items():
            routes.append(Route(f"/{segment}", self._collection(table, None), methods=["GET", "POST"]))
            routes.append(
                Route(
                    f"/{segment}/{{key}}", self._item(table, None), methods=["GET", "PATCH", "PUT", "DELETE"]
                )
            )
        for segment in ("oauth2", "jwts"):
            routes.append(
                Route(f"/{segment}/{{key}}/consumer", self._owner(TOP_LEVEL[segment]), methods=["GET"])
            )
        for segment, (child, fk, parent_table) in NESTED.items():
            parent_seg, child_seg = segment.split("/")
            spec = (fk, parent_table)
            routes.append(
                Route(
                    f"/{parent_seg}/{{parent}}/{child_seg}",
                    self._collection(child, spec),
                    methods=["GET", "POST"],
                )
            )
            routes.append(
                Route(
                    f"/{parent_seg}/{{parent}}/{child_seg}/{{key}}",
                    self._item(child, spec),
                    methods=["GET", "PATCH", "PUT", "DELETE"],
                )
            )
        self.app = Starlette(
            routes=routes,
            middleware=[Middleware(TrailingSlash)],
            exception_handlers={HTTPException: self._http_error, KongError: self._kong_error},
        )

    # --- info --------------------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        available = {
            name: {"version": self.full_version, "priority": cls.PRIORITY}
            for name, cls in sorted(registry.registry().items())
        }
        enabled = sorted({p["name"] for p in self.runtime.store.tables["plugins"].values()})
        return kong_json(
            200,
            {
                "version": self.full_version,
                "edition": "enterprise" if self.runtime.kong_version >= (3, 10) else "community",
                "tagline": "Welcome to kong",
                "hostname": socket.gethostname(),
                "node_id": self.node_id,
                "lua_version": "LuaJIT 2.1.0-20231117",
                "plugins": {"available_on_server": available, "enabled_in_cluster": enabled},
                "configuration": {
                    "database": "off" if self.runtime.db_less else "postgres",
                    "router_flavor": "traditional_compatible",
                    "admin_listen": ["0.0.0.0:8001"],
                    "proxy_listen": ["0.0.0.0:8000", "0.0.0.0:8443 http2 ssl"],
                },
            },
        )

    async def status(self, request: Request) -> Response:
        body: dict[str, Any] = {
            "database": {"reachable": True},
            "server": {"connections_accepted": 0, "connections_active": 0, "total_requests": 0},
            "memory": {"lua_shared_dicts": {}, "workers_lua_vms": []},
        }
        if self.runtime.db_less:
            body["configuration_hash"] = config_hash(self.runtime)
        return kong_json(200, body)

    async def plugins_enabled(self, request: Request) -> Response:
        return kong_json(200, {"enabled_plugins": sorted(registry.registry())})

    # --- declarative -------------------------------------------------------------------------------

    async def get_config(self, request: Request) -> Response:
        if not self.runtime.db_less:
            return kong_json(
                400,
                {"message": "this endpoint is only available when Kong is configured to not use a database"},
            )
        return kong_json(200, {"config": declarative.export_yaml(self.runtime.store)})

    async def post_config(self, request: Request) -> Response:
        if not self.runtime.db_less:
            return kong_json(
                400,
                {"message": "this endpoint is only available when Kong is configured to not use a database"},
            )
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        if "multipart/form-data" in content_type:
            raise KongError(415, {"message": "Unsupported Content-Type: multipart/form-data"})
        if "application/x-www-form-urlencoded" in content_type:
            fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            raw = fields.get("config", "").encode()
        loaded = self.runtime.store.config_hash
        if (
            request.query_params.get("check_hash") in ("1", "true")
            and loaded
            and declarative.digest(raw) == loaded
        ):
            return Response(status_code=304)
        flatten = request.query_params.get("flatten_errors") in ("1", "true")
        status, body = declarative.load(self.runtime, raw, flatten_errors=flatten)
        return kong_json(status, body)

    # --- CRUD --------------------------------------------------------------------------------------

    def _parent(self, request: Request, spec: tuple[str, str] | None) -> tuple[str, str] | None:
        if spec is None:
            return None
        fk, parent_table = spec
        parent = self.runtime.store.get(parent_table, request.path_params["parent"])
        if parent is None:
            raise not_found()
        return (fk, parent["id"])

    def _collection(self, table: str, spec: tuple[str, str] | None) -> Handler:
        async def handler(request: Request) -> Response:
            self._refuse_writes(request, table)
            parent = self._parent(request, spec)
            if request.method == "GET":
                return kong_json(200, self._page(request, self.runtime.store.list(table, parent)))
            body = await _body(request, table)
            return kong_json(201, self.runtime.store.create(table, body, parent))

        return handler

    def _item(self, table: str, spec: tuple[str, str] | None) -> Handler:
        async def handler(request: Request) -> Response:
            self._refuse_writes(request, table)
            parent = self._parent(request, spec)
            key = request.path_params["key"]
            store = self.runtime.store
            if request.method == "GET":
                found = store.get(table, key, parent)
                if found is None:
                    raise not_found()
                return kong_json(200, found)
            if request.method == "DELETE":
                # a nested endpoint looks the entity up under its parent first: 404 when it is not there
                # (Kong's delete_entity_endpoint, https://github.com/Kong/kong/blob/3.9.0/kong/api/endpoints.lua#L675-L692)
                if not store.delete(table, key, parent) and parent is not None:
                    raise not_found()
                return Response(status_code=204)
            body = await _body(request, table)
            if request.method == "PATCH":
                updated = store.patch(table, key, body, parent)
                if updated is None:
                    raise not_found()
                return kong_json(200, updated)
            return kong_json(200, store.upsert(table, key, body, parent))

        return handler

    def _owner(self, table: str) -> Handler:
        """``GET /jwts/{key}/consumer``: the consumer a credential belongs to (Kong's foreign-entity endpoint,
        16-jwt/02-api_spec.lua@3.9.0 L518-558)."""

        async def handler(request: Request) -> Response:
            found = self.runtime.store.get(table, request.path_params["key"])
            consumer = self.runtime.store.get("consumers", str((found or {}).get("consumer", {}).get("id")))
            if found is None or consumer is None:
                raise not_found()
            return kong_json(200, consumer)

        return handler

    def _refuse_writes(self, request: Request, table: str) -> None:
        """DB-less mode: entity writes are Kong's 405 ``operation unsupported`` (code 12)."""
        if not (self.runtime.db_less and request.method in WRITE_METHODS):
            return
        verb = {"POST": "create", "DELETE": "delete"}.get(request.method, "create or update")
        message = f"cannot {verb} '{table}' entities when not using a database"
        raise KongError(405, {"code": 12, "name": "operation unsupported", "message": message})

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
        raw_size = request.query_params.get("size", "100")
        try:
            size = int(raw_size)
        except ValueError:
            raise KongError(
                400, {"code": 9, "name": "invalid size", "message": "size must be a number"}
            ) from None
        if not 1 <= size <= 1000:
            raise KongError(
                400,
                {"code": 9, "name": "invalid size", "message": "size must be an integer between 1 and 1000"},
            )
        start = 0
        offset = request.query_params.get("offset")
        if offset:
            try:
                start = int(base64.urlsafe_b64decode(offset.encode()).decode())
            except (ValueError, UnicodeDecodeError):
                raise KongError(
                    400,
                    {
                        "code": 7,
                        "name": "invalid offset",
                        "message": f"'{offset}' is not a valid offset: bad base64 encoding",
                    },
                ) from None
        tags = request.query_params.get("tags")
        if tags:
            rows = _with_tags(rows, tags)
        data = rows[start : start + size]
        body: dict[str, Any] = {"data": data, "next": None}
        if start + size < len(rows):
            token = base64.urlsafe_b64encode(str(start + size).encode()).decode()
            body["offset"] = token
            body["next"] = f"{request.url.path}?offset={token}" + (
                f"&size={size}" if "size" in request.query_params else ""
            )
        return body

    # --- errors ------------------------------------------------------------------------------------

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {404: "Not found", 405: "Method not allowed"}.get(status, "An unexpected error occurred")
        return kong_json(status, {"message": message})

    async def _kong_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KongError)
        return kong_json(exc.status, exc.body)


class TrailingSlash:
    """Kong's Admin API answers ``/jwts/`` as ``/jwts`` (16-jwt/02-api_spec.lua@3.9.0 L60, L391): a trailing
    slash is dropped before routing instead of Starlette's 307 redirect."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/", "raw_path": (path.rstrip("/") or "/").encode()}
        await self.app(scope, receive, send)


def _with_tags(rows: list[dict[str, Any]], tags: str) -> list[dict[str, Any]]:
    """Kong's ``tags`` filter: ``a,b`` needs every tag, ``a/b`` any of them."""
    if "," in tags and "/" in tags:
        raise KongError(
            400,
            {
                "code": 11,
                "name": "invalid options",
                "message": "invalid option (tags: invalid filter syntax)",
                "options": {"tags": "invalid filter syntax"},
            },
        )
    if "/" in tags:
        wanted = set(tags.split("/"))
        return [r for r in rows if wanted & set(r.get("tags") or [])]
    needed = set(tags.split(","))
    return [r for r in rows if needed <= set(r.get("tags") or [])]


async def _body(request: Request, table: str | None) -> Any:
    """The request body as Kong reads it: JSON, or form fields with dotted/bracketed keys (coerced per the
    schema of ``table`` when it is one of entities.KINDS)."""
    content_type = request.headers.get("content-type", "").lower()
    raw = await request.body()
    if "application/x-www-form-urlencoded" in content_type:
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise KongError(400, {"message": "Cannot parse form body"}) from None
        fields = parse_form(pairs)
        return fields if table is None else coerce_for_table(table, fields, KINDS[table].schema)
    if "multipart/form-data" in content_type:
        raise KongError(415, {"message": "Unsupported Content-Type: multipart/form-data"})
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KongError(400, {"message": "Cannot parse JSON body"}) from None
