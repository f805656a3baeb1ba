"""Kong's Status API (``status_listen``): ``GET /status`` and ``GET /status/ready``.

``/status/ready`` follows Kong's kong/status/ready.lua: 200 ``{"message": "ready"}`` once the node can serve
its configuration, else 503 with the reason: DB-less, ``no configuration available`` until a declarative
config is loaded (``KONG_DECLARATIVE_CONFIG`` or ``POST /config``); with a database, ``failed to connect to
database`` while Postgres does not answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kongformance.gateway.admin import config_hash, kong_json
from kongformance.gateway.runtime import Runtime


def ready_reason(runtime: Runtime, database_ok: Callable[[], bool] | None) -> str | None:
    """None when ready, else Kong's reason (kong/status/ready.lua)."""
    if database_ok is not None and not database_ok():
        return "failed to connect to database"
    if runtime.db_less and not runtime.store.config_hash:
        return "no configuration available"
    return None


def status_app(runtime: Runtime, database_ok: Callable[[], bool] | None = None) -> Starlette:
    """The Status API over one gateway runtime; ``database_ok`` pings Postgres (None when DB-less)."""

    async def status(request: Request) -> Response:
        body: dict[str, Any] = {
            "database": {"reachable": database_ok() if database_ok is not None else True},
            "server": {"connections_accepted": 0, "connections_active": 0, "total_requests": 0},
            "memory": {"lua_shared_dicts": {}, "workers_lua_vms": []},
        }
        if runtime.db_less:
            body["configuration_hash"] = config_hash(runtime)
        return kong_json(200, body)

    async def ready(request: Request) -> Response:
        reason = ready_reason(runtime, database_ok)
        if reason is None:
            return kong_json(200, {"message": "ready"})
        return kong_json(503, {"message": reason})

    async def not_found(request: Request, exc: Exception) -> Response:
        return kong_json(404, {"message": "Not found"})

    return Starlette(
        routes=[Route("/status", status, methods=["GET"]), Route("/status/ready", ready, methods=["GET"])],
        exception_handlers={404: not_found, 405: not_found},
    )
