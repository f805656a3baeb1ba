"""Scope resolution at the token endpoint (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient)."""

from __future__ import annotations

import pytest
from tests.identity_issuer.helpers import Issuer, decode_segments

from kongformance.defects import DefectSwitches
from kongformance.identity.defects import ISSUER_DEFECTS
from kongformance.identity.store import Client, Scope
from kongformance.identity.tokens import InvalidScope, parse_scope_parameter, resolve_scopes


def _scope(name: str, *, default: bool = False, enabled: bool = True) -> Scope:
    return Scope(name, "srv", name, "", default, False, enabled, 0.0, 0.0)


def _client(allow: list[str], allow_all: bool = False) -> Client:
    return Client("c", "srv", "c", ["client_credentials"], ["token"], [], None, 300, 300, allow_all, allow, {},
                  "client_secret_post", 0.0, 0.0)  # fmt: skip


NO_DEFECTS = DefectSwitches(ISSUER_DEFECTS)
SCOPES = [_scope("read"), _scope("write"), _scope("audit", default=True), _scope("old", enabled=False)]


def test_granted_is_requested_and_allowed_plus_allowed_defaults() -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: granted = requested ∩ allowed ∩ enabled + allowed defaults."""
    grant = resolve_scopes(SCOPES, _client(["read", "write", "audit"]), ["read"], NO_DEFECTS)
    assert grant.names == ["read", "audit"]
    assert grant.requested_any


def test_default_scope_the_client_may_not_use_is_not_granted() -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope: default scopes are granted only if the client may use them."""
    grant = resolve_scopes(SCOPES, _client(["read"]), [], NO_DEFECTS)
    assert grant.names == []
    assert not grant.requested_any


def test_allow_all_scopes_allows_every_enabled_scope() -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: allowed = all enabled scopes when allow_all_scopes."""
    grant = resolve_scopes(SCOPES, _client([], allow_all=True), ["write", "read"], NO_DEFECTS)
    assert grant.names == ["read", "write", "audit"]


@pytest.mark.parametrize("requested", ["nosuch", "write", "old"])
def test_unknown_disallowed_or_disabled_scope_is_invalid_scope(requested: str) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient (inferred): an unknown, disallowed or disabled scope gives invalid_scope."""
    with pytest.raises(InvalidScope):
        resolve_scopes(SCOPES, _client(["read", "old"]), [requested], NO_DEFECTS)


def test_openid_is_accepted_without_being_granted() -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: openid is always in scopes_supported; DCR flows request it (inferred: not granted)."""
    grant = resolve_scopes(SCOPES, _client(["read"]), ["openid", "read"], NO_DEFECTS)
    assert grant.names == ["read"]


def test_scope_parameter_is_space_delimited_without_duplicates() -> None:
    """RFC 6749 3.3: scope is a space-delimited list."""
    assert parse_scope_parameter("a  b a ") == ["a", "b"]
    assert parse_scope_parameter(None) == []


def test_token_scope_and_response_scope_list_granted_scopes(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow and https://developer.konghq.com/how-to/configure-kong-identity-oidc/: response scope only when granted; token scope space-delimited."""
    store = issuer.emulator.store
    read = store.create_scope(issuer.server.id, name="read")
    write = store.create_scope(issuer.server.id, name="write")
    default = store.create_scope(issuer.server.id, name="basic", default=True)
    client, secret = issuer.add_client(allow_scopes=[read.id, write.id, default.id])
    response = issuer.token(client.id, secret, scope="write read")
    assert response.json()["scope"] == "read write basic"
    assert decode_segments(response.json()["access_token"])[1]["scope"] == "read write basic"


def test_requesting_a_scope_outside_allow_scopes_is_rejected(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient and https://developer.konghq.com/identity/auth-servers/ (inferred): invalid_scope 400."""
    store = issuer.emulator.store
    store.create_scope(issuer.server.id, name="admin")
    response = issuer.token(scope="admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_disabled_scope_never_appears_even_as_default(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope: disabled scopes never appear in tokens."""
    store = issuer.emulator.store
    scope = store.create_scope(issuer.server.id, name="off", default=True, enabled=False)
    client, secret = issuer.add_client(allow_scopes=[scope.id])
    response = issuer.token(client.id, secret)
    assert "scope" not in response.json()
    assert decode_segments(response.json()["access_token"])[1]["scope"] == ""
