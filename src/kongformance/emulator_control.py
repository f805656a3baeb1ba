"""The control endpoints every emulator shares under ``/_emulator``: the virtual clock and the defect switches.

One implementation for the issuer emulator and the reference gateway (docs/identity-control-api.md):

* ``GET /clock``: ``{"now", "frozen", "offset"}``.
* ``POST /clock`` with ``{"action": "freeze"|"advance"|"resume"|"reset", "at"?, "seconds"?}``, or
  ``POST /clock/{action}`` with ``{"at"?, "seconds"?}``: both forms are accepted; each answers the clock state.
* ``GET /defects``: ``{"enabled": [names], "catalogue": [{"name", "component", "summary", "departs_from",
  "enabled"}]}``; ``PUT /defects`` ``{"enabled": [names]}`` replaces the enabled set, then calls the optional
  on-change callback (the gateway rebuilds its plugins) and answers like ``GET``.

Bad input is a 400 ``application/problem+json`` with ``invalid_parameters`` (the Problem machinery of
:mod:`kongformance.problem_json`); :func:`control_app` also renders unknown paths and wrong methods
under the control surface as problem+json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.problem_json import Problem, invalid, problem_response

CLOCK_ACTIONS = ("freeze", "advance", "resume", "reset")
"""What ``POST /clock`` can do."""

_CLOCK_FIELDS = {"freeze": ("at",), "advance": ("seconds",), "resume": (), "reset": ()}

Handler = Callable[[Request], Awaitable[Response]]


def bad_parameter(
    field: str, reason: str, rule: str | None = None, source: str = "body", **extra: Any
) -> Problem:
    """A 400 naming one invalid parameter (``detail`` is ``"<field>: <reason>"``). ``rule`` and ``extra``
    follow Konnect's ``InvalidParameters`` schema: ``enum`` needs ``choices``, ``min`` needs ``minimum``."""
    return Problem(400, f"{field}: {reason}", [invalid(field, rule, reason, source, **extra)])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json_object(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}`` unless ``required``."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise bad_parameter("body", "a JSON object is required", "required")
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise bad_parameter("body", "is not valid JSON", "invalid") from None
    if not isinstance(data, dict):
        raise bad_parameter("body", "must be a JSON object", "is_object")
    return data


def with_problems(handler: Handler) -> Handler:
    """Wrap a handler so that a raised :class:`Problem` becomes its problem+json response."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Problem as problem:
            return problem_response(problem)

    return wrapped


async def http_error_as_problem(request: Request, exc: Exception) -> Response:
    """Unknown control paths and wrong methods as problem+json."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    response = problem_response(Problem(status, f"{detail}: {request.method} {request.url.path}"))
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def control_app(routes: Sequence[BaseRoute]) -> Starlette:
    """A control surface (to mount at ``/_emulator``) whose routing errors are problem+json."""
    return Starlette(routes=list(routes), exception_handlers={HTTPException: http_error_as_problem})


def _number(data: dict[str, Any], field: str) -> float | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_parameter(field, "must be a number", "is_number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise bad_parameter(field, "must be a finite number", "is_number")
    return number


class EmulatorControl:
    """The clock and defect endpoints over one emulator's :class:`Clock` and :class:`DefectSwitches`."""

    def __init__(
        self,
        clock: Clock,
        defects: DefectSwitches,
        on_defects_change: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.defects = defects
        self.on_defects_change = on_defects_change

    def routes(self) -> list[BaseRoute]:
        """Routes relative to the control prefix (mount them at ``/_emulator``)."""
        p = with_problems
        return [
            Route("/clock", p(self.clock_state), methods=["GET"]),
            Route("/clock", p(self.clock_action), methods=["POST"]),
            Route("/clock/{action}", p(self.clock_action), methods=["POST"]),
            Route("/defects", p(self.defects_state), methods=["GET"]),
            Route("/defects", p(self.set_defects), methods=["PUT"]),
        ]

    # -- clock --

    def clock_body(self) -> dict[str, Any]:
        """``{"now", "frozen", "offset"}`` of the clock."""
        state = self.clock.state()
        return {"now": state.now, "frozen": state.frozen, "offset": state.offset}

    async def clock_state(self, request: Request) -> Response:
        return JSONResponse(self.clock_body())

    async def clock_action(self, request: Request) -> Response:
        data = await read_json_object(request)
        action = self._action(request, data)
        unknown = sorted(set(data) - {"action", *_CLOCK_FIELDS[action]})
        if unknown:
            raise bad_parameter(unknown[0], f"is not a field of the {action} action", "unknown_property")
        if action == "freeze":
            self.clock.freeze(_number(data, "at"))
        elif action == "advance":
            seconds = _number(data, "seconds")
            if seconds is None:
                raise bad_parameter("seconds", "is required (a number >= 0)", "required")
            if seconds < 0:
                raise bad_parameter("seconds", "must be >= 0 (a clock only moves forward)", "min", minimum=0)
            self.clock.advance(seconds)
        elif action == "resume":
            self.clock.resume()
        else:
            self.clock.reset()
        return JSONResponse(self.clock_body())

    @staticmethod
    def _action(request: Request, data: dict[str, Any]) -> str:
        """The action from the path (``/clock/{action}``) or, failing that, from the body."""
        allowed = f"must be one of {', '.join(CLOCK_ACTIONS)}"
        in_path = request.path_params.get("action")
        in_body = data.get("action")
        if in_path is not None:
            if in_path not in CLOCK_ACTIONS:
                raise bad_parameter("action", allowed, "enum", "path", choices=list(CLOCK_ACTIONS))
            if in_body is not None and in_body != in_path:
                raise bad_parameter("action", f"differs from the path's action {in_path!r}", "invalid")
            return str(in_path)
        if in_body is None:
            raise bad_parameter("action", f"is required: {allowed}", "required")
        if not isinstance(in_body, str) or in_body not in CLOCK_ACTIONS:
            raise bad_parameter("action", allowed, "enum", choices=list(CLOCK_ACTIONS))
        return in_body

    # -- defects --

    def defects_body(self) -> dict[str, Any]:
        """``{"enabled", "catalogue"}``: the switched-on names and every defect with its state."""
        on = set(self.defects.enabled())
        return {
            "enabled": sorted(on),
            "catalogue": [
                {
                    "name": d.name,
                    "component": d.component,
                    "summary": d.summary,
                    "departs_from": d.departs_from,
                    "enabled": d.name in on,
                }
                for d in self.defects.catalogue.values()
            ],
        }

    async def defects_state(self, request: Request) -> Response:
        return JSONResponse(self.defects_body())

    async def set_defects(self, request: Request) -> Response:
        data = await read_json_object(request, required=True)
        names = data.get("enabled")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise bad_parameter("enabled", "must be a list of defect names", "is_array")
        unknown = [n for n in names if n not in self.defects.catalogue]
        if unknown:
            raise bad_parameter(
                "enabled", f"unknown defect {unknown[0]!r}", "enum", choices=sorted(self.defects.catalogue)
            )
        self.defects.clear()
        for name in names:
            self.defects.enable(name)
        if self.on_defects_change is not None:
            self.on_defects_change()
        return JSONResponse(self.defects_body())
