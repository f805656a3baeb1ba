"""The test-control surface of the issuer emulator, mounted at ``/_emulator`` (docs/identity-control-api.md).

Not part of Kong Identity: the virtual clock and the defect switches (shared with the gateway, see
:mod:`kongformance.emulator_control`), signing-key rotation, fault injection, the request log and minting of
arbitrary JWTs. Bad input is answered with 400 problem+json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.emulator_control import (
    EmulatorControl,
    bad_parameter,
    control_app,
    read_json_object,
    with_problems,
)
from kongformance.identity import minting
from kongformance.identity.faults import ENDPOINTS, FaultInjector, InvalidFault
from kongformance.identity.keys import KeyRegistry
from kongformance.identity.request_log import RequestLog
from kongformance.identity.store import AuthServer, IdentityStore
from kongformance.problem_json import Problem


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


class ControlApi:
    """Handlers of ``/_emulator``."""

    def __init__(self, deps: ControlDeps) -> None:
        self.d = deps

    def app(self) -> Starlette:
        p = with_problems
        shared = EmulatorControl(self.d.clock, self.d.defects)
        return control_app(
            [
                *shared.routes(),
                Route("/auth-servers/{id}/keys", p(self.key_state), methods=["GET"]),
                Route("/auth-servers/{id}/rotate-keys", p(self.rotate_keys), methods=["POST"]),
                Route("/auth-servers/{id}/mint", p(self.mint), methods=["POST"]),
                Route("/faults", p(self.faults), methods=["GET", "POST", "DELETE"]),
                Route("/faults/{fault_id}", p(self.delete_fault), methods=["DELETE"]),
                Route("/requests", p(self.requests), methods=["GET", "DELETE"]),
            ]
        )

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
        data = await read_json_object(request)
        keep = data.get("keep_previous", True)
        if not isinstance(keep, bool):
            raise bad_parameter("keep_previous", "must be a boolean", "is_boolean")
        self.d.keys.rotate(server.id, keep_previous=keep)
        return JSONResponse(self._key_body(server.id))

    # -- minting --

    async def mint(self, request: Request) -> Response:
        server = self._server(request)
        data = await read_json_object(request)
        header_in, claims_in = data.get("header", {}), data.get("claims", {})
        if not isinstance(header_in, dict):
            raise bad_parameter("header", "must be a JSON object", "is_object")
        if not isinstance(claims_in, dict):
            raise bad_parameter("claims", "must be a JSON object", "is_object")
        choice = data.get("key", "current")
        if choice not in minting.KEY_CHOICES:
            raise bad_parameter(
                "key",
                f"must be one of {', '.join(minting.KEY_CHOICES)}",
                "enum",
                choices=list(minting.KEY_CHOICES),
            )
        client = None
        if data.get("client_id") is not None:
            client = self.d.store.get_client(server.id, str(data["client_id"]))
            if client is None:
                raise Problem(404, f"Client [{data['client_id']}] not found.")
        use_defaults = data.get("defaults", True)
        if not isinstance(use_defaults, bool):
            raise bad_parameter("defaults", "must be a boolean", "is_boolean")
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
            raise bad_parameter(err.field, err.reason) from None
        return JSONResponse({"token": token, "header": header, "claims": claims, "kid": key.kid})

    # -- faults --

    async def faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"data": [r.describe() for r in self.d.faults.rules()]})
        if request.method == "DELETE":
            self.d.faults.clear()
            return Response(status_code=204)
        data = await read_json_object(request, required=True)
        try:
            rule = self.d.faults.add(data)
        except InvalidFault as err:
            field, _, reason = str(err).partition(": ")
            raise bad_parameter(field, reason) from None
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
            raise bad_parameter(
                "endpoint", f"must be one of {', '.join(ENDPOINTS)}", "enum", "query", choices=list(ENDPOINTS)
            )
        server_id = request.query_params.get("auth_server_id") or None
        entries = self.d.log.entries(endpoint, server_id)
        return JSONResponse(
            {"count": self.d.log.count(endpoint, server_id), "data": [e.describe() for e in entries]}
        )
