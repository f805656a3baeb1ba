"""The gateway's test control surface, on the admin listener under ``/_emulator`` (outside Kong's own
Admin API paths): the virtual clock, the defect switches, and a switch that drops every plugin cache."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kongformance.defects import UnknownDefect
from kongformance.gateway.runtime import Runtime

PREFIX = "/_emulator"


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _bad(message: str) -> Response:
    return _json(400, {"message": message})


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def control_routes(runtime: Runtime) -> list[BaseRoute]:
    """Starlette routes of ``/_emulator`` for one gateway runtime."""

    async def clock_state(request: Request) -> Response:
        return _json(200, asdict(runtime.clock.state()))

    async def clock_action(request: Request) -> Response:
        body = await _read_json(request)
        if not isinstance(body, dict):
            return _bad("expected a JSON object")
        action = body.get("action")
        clock = runtime.clock
        try:
            if action == "freeze":
                at = body.get("at")
                clock.freeze(None if at is None else float(at))
            elif action == "advance":
                clock.advance(float(body.get("seconds", 0)))
            elif action == "resume":
                clock.resume()
            elif action == "reset":
                clock.reset()
            else:
                return _bad("action must be one of: freeze, advance, resume, reset")
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
        return _json(200, asdict(clock.state()))

    async def defects_state(request: Request) -> Response:
        switches = runtime.defects
        on = set(switches.enabled())
        catalogue = [{**asdict(d), "enabled": d.name in on} for d in switches.catalogue.values()]
        return _json(200, {"catalogue": catalogue, "enabled": sorted(on)})

    async def defects_set(request: Request) -> Response:
        body = await _read_json(request)
        names = body.get("enabled") if isinstance(body, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return _bad('expected {"enabled": [defect names]}')
        unknown = [n for n in names if n not in runtime.defects.catalogue]
        if unknown:
            return _bad(f"unknown defect: {', '.join(unknown)}")
        runtime.defects.clear()
        try:
            for name in names:
                runtime.defects.enable(name)
        except UnknownDefect as exc:  # pragma: no cover - checked above
            return _bad(f"unknown defect: {exc}")
        runtime.rebuild()
        return await defects_state(request)

    async def drop_caches(request: Request) -> Response:
        runtime.drop_caches()
        return Response(status_code=204)

    return [
        Route(f"{PREFIX}/clock", clock_state, methods=["GET"]),
        Route(f"{PREFIX}/clock", clock_action, methods=["POST"]),
        Route(f"{PREFIX}/defects", defects_state, methods=["GET"]),
        Route(f"{PREFIX}/defects", defects_set, methods=["PUT"]),
        Route(f"{PREFIX}/caches", drop_caches, methods=["DELETE"]),
    ]
