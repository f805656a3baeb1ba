"""The Kong Identity management API (``/v1``): auth servers, scopes and claims, and the app that serves it all.

:func:`management_app` builds the Starlette app mounted at ``/v1``; the client, secret, token and test-claim
operations live in :mod:`kongformance.identity.management_clients`. Shapes, defaults and statuses follow
``reference/konnect-openapi/kong-identity-v1.yaml`` (https://developer.konghq.com/api/konnect/kong-identity/v1/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kongformance.clock import Clock
from kongformance.identity import management_clients
from kongformance.identity.api_io import (
    ManagementContext,
    guarded,
    json_response,
    merge_labels,
    no_content,
    path_server,
    path_uuid,
    query_force,
    read_json,
)
from kongformance.identity.pagination import FilterKind, ListSpec, paginate
from kongformance.identity.representations import auth_server_json, claim_json, scope_json
from kongformance.identity.request_schemas import validate_body
from kongformance.identity.store import AuthServer, IdentityStore, NameConflict, NotFound
from kongformance.problem_json import Problem, bad_request, invalid, problem_response

SERVER_LIST = ListSpec(
    sortable=("created_at", "updated_at", "name", "audience"),
    filters={
        "name": FilterKind.LEGACY_STRING,
        "description": FilterKind.LEGACY_STRING,
        "audience": FilterKind.LEGACY_STRING,
        "id": FilterKind.EQUALS,
        "labels": FilterKind.LABELS,
    },
)
SCOPE_LIST = ListSpec(
    sortable=("created_at", "updated_at", "name"),
    filters={"name": FilterKind.LEGACY_STRING, "id": FilterKind.EQUALS},
)
CLAIM_LIST = SCOPE_LIST


class _ServerHandlers:
    """Auth server, scope and claim operations."""

    def __init__(self, ctx: ManagementContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def _server(self, request: Request) -> AuthServer:
        return path_server(self.store, request)

    def _server_json(self, server: AuthServer) -> dict[str, Any]:
        return auth_server_json(server, self.ctx.issuer_url_for(server))

    # -- auth servers --

    async def list_servers(self, request: Request) -> Response:
        items = [self._server_json(s) for s in self.store.list_servers()]
        return json_response(paginate(items, request.query_params, SERVER_LIST))

    async def create_server(self, request: Request) -> Response:
        body = validate_body("CreateAuthServer", await read_json(request))
        server = self.store.create_server(
            name=body["name"],
            audience=body["audience"],
            description=body.get("description", ""),
            signing_algorithm=body.get("signing_algorithm", "RS256"),
            labels=body.get("labels") or {},
            trusted_origins=body.get("trusted_origins"),
        )
        return json_response(self._server_json(server), 201)

    async def get_server(self, request: Request) -> Response:
        return json_response(self._server_json(self._server(request)))

    async def update_server(self, request: Request) -> Response:
        server = self._server(request)
        body = validate_body("UpdateAuthServer", await read_json(request))
        if "labels" in body:
            body["labels"] = merge_labels(server.labels, body["labels"])
        updated = self.store.update_server(server.id, body)
        return json_response(self._server_json(updated))

    async def delete_server(self, request: Request) -> Response:
        server_id = path_uuid(request, "authServerId")
        force = query_force(request)
        self.store.delete_server(server_id, force=force)
        return no_content()

    # -- scopes --

    async def list_scopes(self, request: Request) -> Response:
        server = self._server(request)
        items = [scope_json(s) for s in self.store.scopes_of(server.id)]
        return json_response(paginate(items, request.query_params, SCOPE_LIST))

    async def create_scope(self, request: Request) -> Response:
        server = self._server(request)
        body = validate_body("CreateScope", await read_json(request))
        scope = self.store.create_scope(server.id, **body)
        return json_response(scope_json(scope), 201)

    async def get_scope(self, request: Request) -> Response:
        server = self._server(request)
        scope_id = path_uuid(request, "scopeId")
        scope = self.store.get_scope(server.id, scope_id)
        if scope is None:
            raise NotFound(f"Scope [{scope_id}] not found.")
        return json_response(scope_json(scope))

    async def update_scope(self, request: Request) -> Response:
        server = self._server(request)
        scope_id = path_uuid(request, "scopeId")
        body = validate_body("UpdateScope", await read_json(request))
        return json_response(scope_json(self.store.update_scope(server.id, scope_id, body)))

    async def delete_scope(self, request: Request) -> Response:
        server = self._server(request)
        self.store.delete_scope(server.id, path_uuid(request, "scopeId"))
        return no_content()

    # -- claims (names unique per auth server; duplicates are a 400, the document declares no 409) --

    async def list_claims(self, request: Request) -> Response:
        server = self._server(request)
        items = [claim_json(c) for c in self.store.claims_of(server.id)]
        return json_response(paginate(items, request.query_params, CLAIM_LIST))

    async def create_claim(self, request: Request) -> Response:
        server = self._server(request)
        body = validate_body("CreateClaim", await read_json(request))
        self.store.check_scope_ids(server.id, body.get("include_in_scopes") or [], "include_in_scopes")
        try:
            claim = self.store.create_claim(server.id, **body)
        except NameConflict as error:
            raise _claim_name_taken(error) from None
        return json_response(claim_json(claim), 201)

    async def get_claim(self, request: Request) -> Response:
        server = self._server(request)
        claim_id = path_uuid(request, "claimId")
        claim = self.store.get_claim(server.id, claim_id)
        if claim is None:
            raise NotFound(f"Claim [{claim_id}] not found.")
        return json_response(claim_json(claim))

    async def update_claim(self, request: Request) -> Response:
        server = self._server(request)
        claim_id = path_uuid(request, "claimId")
        body = validate_body("UpdateClaim", await read_json(request))
        if self.store.get_claim(server.id, claim_id) is None:
            raise NotFound(f"Claim [{claim_id}] not found.")
        self.store.check_scope_ids(server.id, body.get("include_in_scopes") or [], "include_in_scopes")
        try:
            claim = self.store.update_claim(server.id, claim_id, body)
        except NameConflict as error:
            raise _claim_name_taken(error) from None
        return json_response(claim_json(claim))

    async def delete_claim(self, request: Request) -> Response:
        server = self._server(request)
        self.store.delete_claim(server.id, path_uuid(request, "claimId"))
        return no_content()


def _claim_name_taken(error: NameConflict) -> Problem:
    return bad_request([invalid("name", "invalid", error.detail)], error.detail)


async def http_exception_as_problem(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: routing errors (404, 405) as problem+json; usable by the app mounting /v1."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = (
        "Not found" if status == 404 else (exc.detail if isinstance(exc, HTTPException) else "Internal error")
    )
    response = problem_response(Problem(status, str(detail)))
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    return problem_response(Problem(500, "An unexpected error occurred."))


def _any_token(token: str) -> bool:
    return bool(token)


def management_app(
    store: IdentityStore,
    clock: Clock,
    *,
    issuer_url_for: Callable[[AuthServer], str],
    accept_token: Callable[[str], bool] = _any_token,
) -> Starlette:
    """The ``/v1`` management API over ``store``; mount it at ``/v1``."""
    ctx = ManagementContext(store=store, clock=clock, issuer_url_for=issuer_url_for)
    s = _ServerHandlers(ctx)
    table: list[tuple[str, str, Any]] = [
        ("/auth-servers", "GET", s.list_servers),
        ("/auth-servers", "POST", s.create_server),
        ("/auth-servers/{authServerId}", "GET", s.get_server),
        ("/auth-servers/{authServerId}", "PATCH", s.update_server),
        ("/auth-servers/{authServerId}", "DELETE", s.delete_server),
        ("/auth-servers/{authServerId}/scopes", "GET", s.list_scopes),
        ("/auth-servers/{authServerId}/scopes", "POST", s.create_scope),
        ("/auth-servers/{authServerId}/scopes/{scopeId}", "GET", s.get_scope),
        ("/auth-servers/{authServerId}/scopes/{scopeId}", "PATCH", s.update_scope),
        ("/auth-servers/{authServerId}/scopes/{scopeId}", "DELETE", s.delete_scope),
        ("/auth-servers/{authServerId}/claims", "GET", s.list_claims),
        ("/auth-servers/{authServerId}/claims", "POST", s.create_claim),
        ("/auth-servers/{authServerId}/claims/{claimId}", "GET", s.get_claim),
        ("/auth-servers/{authServerId}/claims/{claimId}", "PATCH", s.update_claim),
        ("/auth-servers/{authServerId}/claims/{claimId}", "DELETE", s.delete_claim),
        *management_clients.route_table(ctx),
    ]
    routes = [
        Route(path, guarded(handler, accept_token), methods=[method]) for path, method, handler in table
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception_as_problem, Exception: _server_error},
    )
