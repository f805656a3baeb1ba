"""The test-control surface of the issuer emulator, mounted at ``/_emulator`` (docs/identity-control-api.md).

Not part of Kong Identity: the virtual clock, signing-key rotation, fault injection, the request log,
minting of arbitrary JWTs and the defect switches. Bad input is answered with 400 problem+json.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.identity import minting
from kongformance.identity.faults import ENDPOINTS, FaultInjector, InvalidFault
from kongformance.identity.keys import KeyRegistry
from kongformance.identity.problems import Problem, invalid, problem_response
from kongformance.identity.request_log import RequestLog
from kongformance.identity.store import AuthServer, IdentityStore


@dataclass
class ControlDeps:
    """What the control surface acts on (the parts of one IdentityEmulator)."""

    clock: Clock
    store: IdentityStore
    keys: KeyRegistry
    faults: FaultInjector
    log: RequestLog
    defects: DefectSwitches
    issuer_url_for: Callable[[AuthServer], str]


def _bad(field: str, reason: str, rule: str | None = None) -> Problem:
    return Problem(400, f"{field}: {reason}", [invalid(field, rule, reason)])


async def _json_object(request: Request, *, required: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise _bad("body", "a JSON object is required", "required")
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise _bad("body", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise _bad("body", "must be a JSON object", "type")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _number(data: dict[str, Any], field: str) -> float | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _bad(field, "must be a number", "type")
    return float(value)


async def _http_error_as_problem(request: Request, exc: Exception) -> Response:
    """Unknown control paths and wrong methods as problem+json."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
    response = problem_response(Problem(status, f"{detail}: {request.method} {request.url.path}"))
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


def _problems(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except Problem as problem:
            return problem_response(problem)

    return wrapped


class ControlApi:
    """Handlers of ``/_emulator``."""

    def __init__(self, deps: ControlDeps) -> None:
        self.d = deps

    def app(self) -> Starlette:
        p = _problems
        return Starlette(
            routes=[
                Route("/clock", p(self.clock_state), methods=["GET"]),
                Route("/clock/{action}", p(self.clock_action), methods=["POST"]),
                Route("/auth-servers/{id}/keys", p(self.key_state), methods=["GET"]),
                Route("/auth-servers/{id}/rotate-keys", p(self.rotate_keys), methods=["POST"]),
                Route("/auth-servers/{id}/mint", p(self.mint), methods=["POST"]),
                Route("/faults", p(self.faults), methods=["GET", "POST", "DELETE"]),
                Route("/faults/{fault_id}", p(self.delete_fault), methods=["DELETE"]),
                Route("/requests", p(self.requests), methods=["GET", "DELETE"]),
                Route("/defects", p(self.defects), methods=["GET", "PUT"]),
            ],
            exception_handlers={HTTPException: _http_error_as_problem},
        )

    # -- clock --

    def _clock_body(self) -> dict[str, Any]:
        state = self.d.clock.state()
        return {"now": state.now, "frozen": state.frozen, "offset": state.offset}

    async def clock_state(self, request: Request) -> Response:
        return JSONResponse(self._clock_body())

    async def clock_action(self, request: Request) -> Response:
        action = request.path_params["action"]
        data = await _json_object(request)
        clock = self.d.clock
        if action == "freeze":
            clock.freeze(_number(data, "at"))
        elif action == "advance":
            seconds = _number(data, "seconds")
            if seconds is None or seconds < 0:
                raise _bad("seconds", "must be a number >= 0 (a clock only moves forward)", "required")
            clock.advance(seconds)
        elif action == "resume":
            clock.resume()
        elif action == "reset":
            clock.reset()
        else:
            raise Problem(404, f"Unknown clock action {action!r}; use freeze, advance, resume or reset.")
        return JSONResponse(self._clock_body())

    # -- keys --

    def _server(self, request: Request) -> AuthServer:
        server = self.d.store.get_server(request.path_params["id"])
        if server is None:
            raise Problem(404, f"Auth server [{request.path_params['id']}] not found.")
        return server

    def _key_body(self, server_id: str) -> dict[str, Any]:
        ring = self.d.keys.ring(server_id)
        return {"current_kid": ring.current.kid, "previous_kid": ring.previous.kid if ring.previous else None}

    async def key_state(self, request: Request) -> Response:
        return JSONResponse(self._key_body(self._server(request).id))

    async def rotate_keys(self, request: Request) -> Response:
        server = self._server(request)
        data = await _json_object(request)
        keep = data.get("keep_previous", True)
        if not isinstance(keep, bool):
            raise _bad("keep_previous", "must be a boolean", "type")
        self.d.keys.rotate(server.id, keep_previous=keep)
        return JSONResponse(self._key_body(server.id))

    # -- minting --

    async def mint(self, request: Request) -> Response:
        server = self._server(request)
        data = await _json_object(request)
        header_in, claims_in = data.get("header", {}), data.get("claims", {})
        if not isinstance(header_in, dict):
            raise _bad("header", "must be a JSON object", "type")
        if not isinstance(claims_in, dict):
            raise _bad("claims", "must be a JSON object", "type")
        choice = data.get("key", "current")
        if choice not in minting.KEY_CHOICES:
            raise _bad("key", f"must be one of {', '.join(minting.KEY_CHOICES)}", "enum")
        client = None
        if data.get("client_id") is not None:
            client = self.d.store.get_client(server.id, str(data["client_id"]))
            if client is None:
                raise Problem(404, f"Client [{data['client_id']}] not found.")
        use_defaults = data.get("defaults", True)
        if not isinstance(use_defaults, bool):
            raise _bad("defaults", "must be a boolean", "type")
        try:
            key = minting.choose_key(self.d.keys, server.id, choice)
            header = minting.overlay(
                {"alg": server.signing_algorithm, "typ": "JWT", "kid": key.kid}, header_in
            )
            base = (
                minting.default_claims(server, client, self.d.issuer_url_for(server), self.d.clock.now())
                if use_defaults
                else {}
            )
            claims = minting.overlay(base, claims_in)
            sign_as = data.get("sign_as", header.get("alg"))
            token = minting.sign_compact(header, claims, key, sign_as if isinstance(sign_as, str) else "")
        except minting.MintError as err:
            raise _bad(err.field, err.reason) from None
        return JSONResponse({"token": token, "header": header, "claims": claims, "kid": key.kid})

    # -- faults --

    async def faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"data": [r.describe() for r in self.d.faults.rules()]})
        if request.method == "DELETE":
            self.d.faults.clear()
            return Response(status_code=204)
        data = await _json_object(request, required=True)
        try:
            rule = self.d.faults.add(data)
        except InvalidFault as err:
            field, _, reason = str(err).partition(": ")
            raise _bad(field, reason) from None
        return JSONResponse(rule.describe(), status_code=201)

    async def delete_fault(self, request: Request) -> Response:
        raw = request.path_params["fault_id"]
        if not raw.isdigit() or not self.d.faults.clear(int(raw)):
            raise Problem(404, f"Fault [{raw}] not found.")
        return Response(status_code=204)

    # -- request log --

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.d.log.clear()
            return Response(status_code=204)
        endpoint = request.query_params.get("endpoint") or None
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise Problem(
                400,
                f"endpoint: must be one of {', '.join(ENDPOINTS)}",
                [invalid("endpoint", "enum", f"must be one of {', '.join(ENDPOINTS)}", "query")],
            )
        server_id = request.query_params.get("auth_server_id") or None
        entries = self.d.log.entries(endpoint, server_id)
        return JSONResponse(
            {"count": self.d.log.count(endpoint, server_id), "data": [e.describe() for e in entries]}
        )

    # -- defects --

    def _defects_body(self) -> dict[str, Any]:
        return {
            "enabled": self.d.defects.enabled(),
            "available": [
                {"name": d.name, "summary": d.summary, "departs_from": d.departs_from}
                for d in self.d.defects.catalogue.values()
            ],
        }

    async def defects(self, request: Request) -> Response:
        if request.method == "PUT":
            data = await _json_object(request, required=True)
            names = data.get("enabled")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _bad("enabled", "must be a list of defect names", "type")
            unknown = [n for n in names if n not in self.d.defects.catalogue]
            if unknown:
                raise _bad("enabled", f"unknown defect {unknown[0]!r}", "enum")
            self.d.defects.clear()
            for name in names:
                self.d.defects.enable(name)
        return JSONResponse(self._defects_body())
