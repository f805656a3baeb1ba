"""The kong_oauth2 auth method of openid-connect (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow)."""

from __future__ import annotations

from typing import Any

from .conftest import NOW, FakeToken, Harness, make_request, oidc_harness


def _harness(**config: Any) -> Harness:
    h = oidc_harness(auth_methods=["kong_oauth2"], **config)
    h.runtime.store.tokens["kong-tok"] = FakeToken(
        access_token="kong-tok",
        expires_in=7200,
        created_at=int(NOW) - 100,
        scope="read",
        authenticated_userid=None,
        credential_id="cred-1",
        client_id="oauth-client",
        consumer_id="c-bob",
        service_id="svc-1",
    )
    return h


def test_accepts_a_kong_oauth2_token_and_maps_its_consumer() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: the consumer is mapped automatically (no consumer_claim needed)."""
    h = _harness()
    result, ctx = h.send("kong-tok")
    assert result is None
    assert ctx.consumer is not None and ctx.consumer["id"] == "c-bob"
    assert ctx.request.headers.get("X-Consumer-ID") == "c-bob"
    assert ctx.request.headers.get("X-Consumer-Username") == "Bob"
    assert ctx.request.headers.get("Authorization") == "Bearer kong-tok"


def test_rejects_an_unknown_kong_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: a token not in oauth2_tokens is invalid."""
    h = _harness()
    result, _ = h.send("unknown")
    assert result is not None and result.status == 401


def test_rejects_a_token_bound_to_another_service() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: "kong access token is for different service"."""
    h = _harness()
    result, _ = h.call(make_request(headers=[("Authorization", "Bearer kong-tok")]), service_id="svc-2")
    assert result is not None and result.status == 401


def test_accepts_a_global_token_on_any_service() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: a token without service (global_credentials) is not bound to one."""
    h = _harness()
    tok = h.runtime.store.tokens["kong-tok"]
    tok.service_id = None
    result, _ = h.send("kong-tok")
    assert result is None


def test_expiry_is_now_minus_created_at_greater_than_expires_in() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: expired when now - created_at > expires_in (equality still valid)."""
    h = _harness()
    h.runtime.clock.advance(7100)  # now - created_at == 7200
    assert h.send("kong-tok")[0] is None
    h.runtime.clock.advance(1)
    result, _ = h.send("kong-tok")
    assert result is not None and result.status == 401


def test_scopes_required_applies_to_kong_oauth2_tokens() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: authorization runs after any auth method (scope of the oauth2 token, inferred)."""
    h = _harness(scopes_required=["write"])
    result, _ = h.send("kong-tok")
    assert result is not None and result.status == 403
    assert _harness(scopes_required=["read"]).send("kong-tok")[0] is None
