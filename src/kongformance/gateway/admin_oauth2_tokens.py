"""The Admin API's ``/oauth2_tokens`` endpoints over the oauth2 plugin's token table (plugins/oauth2_store.py).

Kong generates them from the ``oauth2_tokens`` DAO (https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/daos.lua):
``credential`` (an oauth2 credential) and ``expires_in`` (an integer) are required, ``service`` is optional,
``access_token`` is generated when left out and is the endpoint key, ``token_type`` defaults to ``bearer``.
Behaviour replayed from https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/25-oauth2/02-api_spec.lua
(L699-972): POST 201, PUT by access token 200, PATCH 200, GET by id or access token, DELETE 204 even for a
token that does not exist.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kongformance.gateway.entities import foreign_key_violation, is_uuid
from kongformance.gateway.plugins.oauth2_store import Oauth2Store, Oauth2Token
from kongformance.gateway.runtime import Runtime
from kongformance.gateway.schemas import not_found, schema_violation

Page = Callable[[Request, list[dict[str, Any]]], dict[str, Any]]
Reply = Callable[[int, Any], Response]
Body = Callable[[Request], Awaitable[Any]]
Guard = Callable[[Request, str], None]
_FIELDS = ("access_token", "refresh_token", "token_type", "scope", "authenticated_userid")


def as_entity(token: Oauth2Token) -> dict[str, Any]:
    """A token row as Kong's Admin API shows it."""
    return {
        "id": token.id,
        "created_at": token.created_at,
        "credential": {"id": token.credential_id},
        "service": {"id": token.service_id} if token.service_id else None,
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "token_type": token.token_type,
        "expires_in": token.expires_in,
        "scope": token.scope,
        "authenticated_userid": token.authenticated_userid,
        "ttl": None,
    }


def _checked(runtime: Runtime, body: Any, current: Oauth2Token | None) -> dict[str, Any]:
    """The fields of a new or updated row, or Kong's schema / foreign key violation."""
    if not isinstance(body, Mapping):
        raise schema_violation({"@entity": ["expected a record"]})
    merged = {**(as_entity(current) if current else {}), **body}
    errors: dict[str, Any] = {}
    for name in ("credential", "expires_in"):
        if merged.get(name) is None:
            errors[name] = "required field missing"
    expires_in = merged.get("expires_in")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int)):
        errors["expires_in"] = "expected an integer"
    for name in _FIELDS:
        if merged.get(name) is not None and not isinstance(merged[name], str):
            errors[name] = "expected a string"
    if errors:
        raise schema_violation(errors)
    ref = merged["credential"] if isinstance(merged["credential"], Mapping) else {}
    credential = runtime.find_credential("oauth2_credentials", "id", str(ref.get("id")))
    if credential is None:
        raise foreign_key_violation("credential", dict(ref), "oauth2_credentials")
    merged["credential"] = credential
    service = merged.get("service")
    if isinstance(service, Mapping) and runtime.store.get("services", str(service.get("id"))) is None:
        raise foreign_key_violation("service", dict(service), "services")
    return merged


def _row(runtime: Runtime, fields: Mapping[str, Any], current: Oauth2Token | None) -> Oauth2Token:
    credential = fields["credential"]
    consumer = credential.get("consumer") or {}
    service = fields.get("service")
    row_id = current.id if current else fields.get("id")
    token = Oauth2Token(
        access_token=fields.get("access_token") or secrets.token_hex(16),
        token_type=fields.get("token_type") or "bearer",
        expires_in=fields["expires_in"],
        created_at=current.created_at if current else math.floor(runtime.clock.now()),
        scope=fields.get("scope"),
        authenticated_userid=fields.get("authenticated_userid"),
        credential_id=str(credential["id"]),
        client_id=str(credential.get("client_id")),
        consumer_id=consumer.get("id"),
        service_id=str(service["id"]) if isinstance(service, Mapping) and service.get("id") else None,
        refresh_token=fields.get("refresh_token"),
    )
    return dataclasses.replace(token, id=str(row_id)) if row_id else token


def token_routes(
    runtime: Runtime, page: Page, reply: Reply, read_body: Body, guard: Guard
) -> list[BaseRoute]:
    """``/oauth2_tokens`` and ``/oauth2_tokens/{key}`` (``page``, ``reply``, ``read_body`` and ``guard``: the
    Admin API's pagination, JSON answer, body parser and DB-less write refusal)."""

    def store() -> Oauth2Store:
        tokens: Oauth2Store = runtime.oauth2_store()
        return tokens

    async def collection(request: Request) -> Response:
        guard(request, "oauth2_tokens")
        if request.method == "GET":
            return reply(200, page(request, [as_entity(t) for t in store().rows()]))
        fields = _checked(runtime, await read_body(request), None)
        return reply(201, as_entity(store().put(_row(runtime, fields, None))))

    async def item(request: Request) -> Response:
        guard(request, "oauth2_tokens")
        key = request.path_params["key"]
        current = store().by_key(key)
        if request.method == "GET":
            if current is None:
                raise not_found()
            return reply(200, as_entity(current))
        if request.method == "DELETE":
            if current is not None:
                store().delete(current.access_token)
            return Response(status_code=204)
        body = await read_body(request)
        if request.method == "PATCH":
            if current is None:
                raise not_found()
            fields = _checked(runtime, body, current)
            token = dataclasses.replace(_row(runtime, fields, current), purge_at=current.purge_at)
            store().delete(current.access_token)
            return reply(200, as_entity(store().put(token)))
        if isinstance(body, Mapping):
            body = {**body, ("id" if is_uuid(key) else "access_token"): key}
        fields = _checked(runtime, body, None)
        token = _row(runtime, fields, current)
        if current is not None:
            store().delete(current.access_token)
        return reply(200, as_entity(store().put(token)))

    return [
        Route("/oauth2_tokens", collection, methods=["GET", "POST"]),
        Route("/oauth2_tokens/{key}", item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    ]
