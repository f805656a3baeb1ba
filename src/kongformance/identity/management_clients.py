"""Management operations under an auth server's clients: clients, client secrets, test-claim and tokens.

Part of the ``/v1`` management API built by :func:`kongformance.identity.management.management_app`
(https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient-A.9, C.7). Generated client secrets are shown once, in the create response.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kongformance.identity.api_io import (
    ManagementContext,
    json_response,
    merge_labels,
    no_content,
    path_client_id,
    path_server,
    path_uuid,
    read_json,
    require_secure_uris,
)
from kongformance.identity.pagination import FilterKind, ListSpec, paginate
from kongformance.identity.representations import client_json, created_client_json, secret_json, token_json
from kongformance.identity.request_schemas import validate_body
from kongformance.identity.store import AuthServer, Client, NotFound, TokenRecord
from kongformance.identity.templating import render_claims
from kongformance.problem_json import bad_request, invalid

CLIENT_LIST = ListSpec(
    sortable=("created_at", "updated_at", "name"),
    filters={"name": FilterKind.LEGACY_STRING, "id": FilterKind.EQUALS, "labels": FilterKind.LABELS},
)
SECRET_LIST = ListSpec(
    sortable=("created_at", "updated_at"),
    filters={"id": FilterKind.EQUALS, "enabled": FilterKind.BOOLEAN},
)
TOKEN_LIST = ListSpec(sortable=("created_at", "expires_at"), filters={"id": FilterKind.EQUALS})


class _ClientHandlers:
    """Client, secret, test-claim and token operations."""

    def __init__(self, ctx: ManagementContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def _server(self, request: Request) -> AuthServer:
        return path_server(self.store, request)

    def _client(self, request: Request) -> tuple[AuthServer, Client]:
        server = self._server(request)
        client_id = path_client_id(request)
        client = self.store.get_client(server.id, client_id)
        if client is None:
            raise NotFound(f"Client [{client_id}] not found.")
        return server, client

    def _check_client_body(self, server: AuthServer, body: dict[str, Any]) -> None:
        require_secure_uris(body)
        self.store.check_scope_ids(server.id, body.get("allow_scopes") or [], "allow_scopes")

    # -- clients --

    async def list_clients(self, request: Request) -> Response:
        server = self._server(request)
        items = [client_json(c) for c in self.store.clients_of(server.id)]
        return json_response(paginate(items, request.query_params, CLIENT_LIST))

    async def create_client(self, request: Request) -> Response:
        server = self._server(request)
        body = validate_body("CreateClient", await read_json(request))
        self._check_client_body(server, body)
        client, secret = self.store.create_client(server.id, body)
        return json_response(created_client_json(client, secret), 201)

    async def get_client(self, request: Request) -> Response:
        _, client = self._client(request)
        return json_response(client_json(client))

    async def update_client(self, request: Request) -> Response:
        server, client = self._client(request)
        body = validate_body("UpdateClient", await read_json(request))
        self._check_client_body(server, body)
        secret = body.pop("client_secret", None)
        if "labels" in body:
            body["labels"] = merge_labels(client.labels, body["labels"])
        updated = self.store.update_client(server.id, client.id, body, secret=secret)
        return json_response(client_json(updated))

    async def replace_client(self, request: Request) -> Response:
        server = self._server(request)
        client_id = path_client_id(request)
        body = validate_body("ReplaceClient", await read_json(request))
        self._check_client_body(server, body)
        secret = body.pop("client_secret")
        client, created = self.store.replace_client(server.id, client_id, body, secret)
        return json_response(client_json(client), 201 if created else 200)

    async def delete_client(self, request: Request) -> Response:
        server, client = self._client(request)
        self.store.delete_client(server.id, client.id)
        return no_content()

    # -- client secrets --

    async def list_secrets(self, request: Request) -> Response:
        server, client = self._client(request)
        items = [secret_json(s) for s in self.store.secrets_of(server.id, client.id)]
        return json_response(paginate(items, request.query_params, SECRET_LIST))

    async def create_secret(self, request: Request) -> Response:
        server, client = self._client(request)
        raw = await request.body()
        # the rotation how-to (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret, S5) posts no body; an empty body means "generate one"
        body = validate_body("CreateSecretPayload", await read_json(request) if raw.strip() else {})
        item, value = self.store.create_secret(
            server.id, client.id, secret=body.get("secret"), enabled=body.get("enabled", True)
        )
        return json_response(secret_json(item, value), 201)

    async def get_secret(self, request: Request) -> Response:
        server, client = self._client(request)
        secret_id = path_uuid(request, "clientSecretId")
        item = self.store.get_secret(server.id, client.id, secret_id)
        if item is None:
            raise NotFound(f"Client secret [{secret_id}] not found.")
        return json_response(secret_json(item))

    async def update_secret(self, request: Request) -> Response:
        server, client = self._client(request)
        secret_id = path_uuid(request, "clientSecretId")
        body = validate_body("UpdateSecretPayload", await read_json(request))
        if "enabled" in body:
            item = self.store.set_secret_enabled(server.id, client.id, secret_id, body["enabled"])
        else:
            found = self.store.get_secret(server.id, client.id, secret_id)
            if found is None:
                raise NotFound(f"Client secret [{secret_id}] not found.")
            item = found
        return json_response(secret_json(item))

    async def delete_secret(self, request: Request) -> Response:
        server, client = self._client(request)
        self.store.delete_secret(server.id, client.id, path_uuid(request, "clientSecretId"))
        return no_content()

    # -- test-claim (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/testClaimForClient: same engine as issuance; failing entries omitted) --

    async def test_claim(self, request: Request) -> Response:
        server, client = self._client(request)
        body = validate_body("TestClaimPayload", await read_json(request))
        wrong = [
            invalid(name, "is_string", "claim templates must be strings")
            for name, v in body.items()
            if not isinstance(v, str)
        ]
        if wrong:
            raise bad_request(wrong)
        context = self.store.template_context(server, client)
        return json_response(render_claims(body, context, now=self.ctx.clock.now()))

    # -- tokens (live = neither revoked nor expired) --

    def _live_tokens(self, server: AuthServer, client: Client) -> list[TokenRecord]:
        now = self.ctx.clock.now()
        return [t for t in self.store.tokens_of_client(server.id, client.id) if t.expires_at > now]

    async def list_tokens(self, request: Request) -> Response:
        server, client = self._client(request)
        items = [token_json(t) for t in self._live_tokens(server, client)]
        return json_response(paginate(items, request.query_params, TOKEN_LIST))

    def _token(self, request: Request) -> tuple[AuthServer, Client, TokenRecord]:
        server, client = self._client(request)
        token_id = path_uuid(request, "tokenId")
        for rec in self._live_tokens(server, client):
            if rec.id == token_id:
                return server, client, rec
        raise NotFound(f"Token [{token_id}] not found.")

    async def get_token(self, request: Request) -> Response:
        _, _, rec = self._token(request)
        return json_response(token_json(rec))

    async def revoke_token(self, request: Request) -> Response:
        _, _, rec = self._token(request)
        self.store.revoke_token(rec.id)
        return no_content()

    async def revoke_all_tokens(self, request: Request) -> Response:
        server, client = self._client(request)
        self.store.revoke_client_tokens(server.id, client.id)
        return no_content()


def route_table(ctx: ManagementContext) -> list[tuple[str, str, Any]]:
    """(path, method, handler) rows for the client-level operations, relative to ``/v1``."""
    h = _ClientHandlers(ctx)
    base = "/auth-servers/{authServerId}/clients"
    one = base + "/{clientId}"
    return [
        (base, "GET", h.list_clients),
        (base, "POST", h.create_client),
        (one, "GET", h.get_client),
        (one, "PATCH", h.update_client),
        (one, "PUT", h.replace_client),
        (one, "DELETE", h.delete_client),
        (one + "/secrets", "GET", h.list_secrets),
        (one + "/secrets", "POST", h.create_secret),
        (one + "/secrets/{clientSecretId}", "GET", h.get_secret),
        (one + "/secrets/{clientSecretId}", "PATCH", h.update_secret),
        (one + "/secrets/{clientSecretId}", "DELETE", h.delete_secret),
        (one + "/test-claim", "POST", h.test_claim),
        (one + "/tokens", "GET", h.list_tokens),
        (one + "/tokens", "DELETE", h.revoke_all_tokens),
        (one + "/tokens/{tokenId}", "GET", h.get_token),
        (one + "/tokens/{tokenId}", "DELETE", h.revoke_token),
    ]
