"""Custom claims in access tokens: the four inclusion modes and templates (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim and https://developer.konghq.com/identity/auth-servers/#claim-configuration, C)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.identity_issuer.helpers import Issuer, decode_segments


@pytest.fixture
def scoped(issuer: Issuer) -> dict[str, Any]:
    """A server with scopes read/write, claims in each mode, and a client allowed both scopes."""
    store, sid = issuer.emulator.store, issuer.server.id
    read = store.create_scope(sid, name="read")
    write = store.create_scope(sid, name="write")
    store.create_claim(sid, name="always", value="a", include_in_token=True, include_in_all_scopes=True)
    store.create_claim(sid, name="for_read", value="r", include_in_token=True, include_in_scopes=[read.id])
    store.create_claim(sid, name="no_scope", value="n", include_in_token=True)
    store.create_claim(sid, name="userinfo_only", value="u", include_in_token=False)
    store.create_claim(
        sid, name="disabled", value="d", include_in_token=True, include_in_all_scopes=True, enabled=False
    )
    client, secret = issuer.add_client(allow_scopes=[read.id, write.id], name="Acme", labels={"tier": "gold"})
    return {"client": client, "secret": secret}


def _claims(issuer: Issuer, scoped: dict[str, Any], scope: str | None = None) -> dict[str, Any]:
    token = issuer.access_token(client_id=scoped["client"].id, secret=scoped["secret"], scope=scope)
    return decode_segments(token)[1]


def test_always_mode_claim_is_in_every_token(issuer: Issuer, scoped: dict[str, Any]) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "always"."""
    assert _claims(issuer, scoped)["always"] == "a"
    assert _claims(issuer, scoped, "write")["always"] == "a"


def test_scope_bound_claim_only_when_its_scope_is_granted(issuer: Issuer, scoped: dict[str, Any]) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "only for specific scopes"; B.6."""
    assert _claims(issuer, scoped, "read")["for_read"] == "r"
    assert "for_read" not in _claims(issuer, scoped, "write")
    assert "for_read" not in _claims(issuer, scoped)


def test_no_scope_mode_claim_only_when_no_scope_was_requested(issuer: Issuer, scoped: dict[str, Any]) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "only when the client requests no scope"; B.6."""
    assert _claims(issuer, scoped)["no_scope"] == "n"
    assert "no_scope" not in _claims(issuer, scoped, "read")


def test_never_in_token_claim_is_served_by_userinfo_only(issuer: Issuer, scoped: dict[str, Any]) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim include_in_token=false: only /userinfo serves it."""
    token = issuer.access_token(client_id=scoped["client"].id, secret=scoped["secret"])
    assert "userinfo_only" not in decode_segments(token)[1]
    info = issuer.http.get(f"{issuer.url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 200
    assert info.json() == {"sub": scoped["client"].id, "userinfo_only": "u"}


def test_disabled_claim_is_neither_in_token_nor_userinfo(issuer: Issuer, scoped: dict[str, Any]) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim enabled=false."""
    token = issuer.access_token(client_id=scoped["client"].id, secret=scoped["secret"])
    assert "disabled" not in decode_segments(token)[1]
    info = issuer.http.get(f"{issuer.url}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert "disabled" not in info.json()


def test_templated_claims_render_per_client_and_are_json_typed(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/#supported-contexts: ${ } templates against .Client/.AuthServer; JSON typing."""
    store, sid = issuer.emulator.store, issuer.server.id
    store.create_claim(
        sid, name="who", value="${ upper .Client.Name }", include_in_token=True, include_in_all_scopes=True
    )
    store.create_claim(sid, name="n", value="42", include_in_token=True, include_in_all_scopes=True)
    store.create_claim(
        sid,
        name="aud2",
        value="${ .AuthServer.Audience }-x",
        include_in_token=True,
        include_in_all_scopes=True,
    )
    client, secret = issuer.add_client(name="acme")
    claims = decode_segments(issuer.access_token(client_id=client.id, secret=secret))[1]
    assert claims["who"] == "ACME"
    assert claims["n"] == 42
    assert claims["aud2"] == f"{issuer.server.audience}-x"


def test_claim_with_a_missing_label_is_dropped_but_token_issued(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: a missing label drops the claim; default does not rescue it."""
    store, sid = issuer.emulator.store, issuer.server.id
    store.create_claim(
        sid,
        name="env",
        value='${ .Client.Labels.env | default "prod" }',
        include_in_token=True,
        include_in_all_scopes=True,
    )
    store.create_claim(
        sid, name="tier", value="${ .Client.Labels.tier }", include_in_token=True, include_in_all_scopes=True
    )
    client, secret = issuer.add_client(labels={"tier": "gold"})
    claims = decode_segments(issuer.access_token(client_id=client.id, secret=secret))[1]
    assert "env" not in claims
    assert claims["tier"] == "gold"


@pytest.mark.parametrize("name", ["sub", "iss", "aud", "exp", "scope", "client_id", "jti"])
def test_custom_claim_cannot_override_a_registered_claim(issuer: Issuer, name: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/#claim-configuration open question 7; docs/fidelity/identity-issuer.md: registered claims win."""
    issuer.emulator.store.create_claim(
        issuer.server.id, name=name, value="overridden", include_in_token=True, include_in_all_scopes=True
    )
    claims = decode_segments(issuer.access_token())[1]
    assert claims[name] != "overridden"
    assert claims["sub"] == issuer.client.id
