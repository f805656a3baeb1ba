"""JSON shapes of management API responses, as the document's response schemas define them.

Each function turns one store object into the body the OpenAPI document describes (https://developer.konghq.com/api/konnect/kong-identity/v1/-A.8);
timestamps are RFC 3339 with microseconds and ``Z``. Secrets never appear here, except where a caller adds
the freshly generated value to a create response.
"""

from __future__ import annotations

from typing import Any

from kongformance.identity.store import (
    AuthServer,
    Claim,
    Client,
    ClientSecret,
    Scope,
    TokenRecord,
    format_timestamp,
)


def auth_server_json(server: AuthServer, issuer: str) -> dict[str, Any]:
    """``AuthServer``: ``issuer`` is the server's public issuer URL; discovery and JWKS URIs hang off it."""
    body: dict[str, Any] = {
        "id": server.id,
        "name": server.name,
        "description": server.description,
        "audience": server.audience,
        "signing_algorithm": server.signing_algorithm,
        "issuer": issuer,
        "metadata_uri": f"{issuer}/.well-known/openid-configuration",
        "jwks_uri": f"{issuer}/.well-known/jwks",
        "labels": dict(server.labels),
        "created_at": format_timestamp(server.created_at),
        "updated_at": format_timestamp(server.updated_at),
    }
    if server.trusted_origins is not None:
        body["trusted_origins"] = list(server.trusted_origins)
    return body


def scope_json(scope: Scope) -> dict[str, Any]:
    """``Scope``."""
    return {
        "id": scope.id,
        "name": scope.name,
        "description": scope.description,
        "default": scope.default,
        "include_in_metadata": scope.include_in_metadata,
        "enabled": scope.enabled,
        "created_at": format_timestamp(scope.created_at),
        "updated_at": format_timestamp(scope.updated_at),
    }


def claim_json(claim: Claim) -> dict[str, Any]:
    """``Claim``."""
    return {
        "id": claim.id,
        "name": claim.name,
        "value": claim.value,
        "include_in_token": claim.include_in_token,
        "include_in_all_scopes": claim.include_in_all_scopes,
        "include_in_scopes": list(claim.include_in_scopes),
        "enabled": claim.enabled,
        "created_at": format_timestamp(claim.created_at),
        "updated_at": format_timestamp(claim.updated_at),
    }


def client_json(client: Client) -> dict[str, Any]:
    """``Client`` (without ``client_secret``; see :func:`created_client_json`)."""
    return {
        "id": client.id,
        "name": client.name,
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "redirect_uris": list(client.redirect_uris),
        "login_uri": client.login_uri,
        "access_token_duration": client.access_token_duration,
        "id_token_duration": client.id_token_duration,
        "allow_all_scopes": client.allow_all_scopes,
        "allow_scopes": list(client.allow_scopes),
        "labels": dict(client.labels),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "created_at": format_timestamp(client.created_at),
        "updated_at": format_timestamp(client.updated_at),
    }


def created_client_json(client: Client, secret: str) -> dict[str, Any]:
    """``CreatedClient``: the only response that shows the generated secret."""
    return {**client_json(client), "client_secret": secret}


def secret_json(item: ClientSecret, secret: str | None = None) -> dict[str, Any]:
    """``ClientSecretItem``; ``secret`` only in the create response."""
    body: dict[str, Any] = {
        "id": item.id,
        "enabled": item.enabled,
        "created_at": format_timestamp(item.created_at),
        "updated_at": format_timestamp(item.updated_at),
    }
    if secret is not None:
        body["secret"] = secret
    return body


def token_json(rec: TokenRecord) -> dict[str, Any]:
    """``Token``."""
    return {
        "id": rec.id,
        "granted_scope_names": list(rec.granted_scope_names),
        "created_at": format_timestamp(rec.created_at),
        "expires_at": format_timestamp(rec.expires_at),
    }
