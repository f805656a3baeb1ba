"""The gateway's test control surface, on the admin listener under ``/_emulator`` (outside Kong's own
Admin API paths): the virtual clock and the defect switches shared with the issuer emulator
(:mod:`kongformance.emulator_control`; switching defects rebuilds the plugins), and a switch that drops every
plugin cache. Documented in docs/identity-control-api.md ("The gateway's control surface")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from kongformance.emulator_control import EmulatorControl, control_app
from kongformance.gateway.runtime import Runtime

PREFIX = "/_emulator"


def control_routes(runtime: Runtime) -> list[BaseRoute]:
    """The ``/_emulator`` mount of one gateway runtime, to add to the Admin API's routes."""

    async def drop_caches(request: Request) -> Response:
        runtime.drop_caches()
        return Response(status_code=204)

    shared = EmulatorControl(runtime.clock, runtime.defects, on_defects_change=runtime.rebuild)
    app = control_app([*shared.routes(), Route("/caches", drop_caches, methods=["DELETE"])])
    return [Mount(PREFIX, app=app)]
