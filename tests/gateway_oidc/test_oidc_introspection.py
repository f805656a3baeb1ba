"""The introspection auth method of openid-connect (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow)."""

from __future__ import annotations

import base64
from typing import Any

from .conftest import NOW, Harness, oidc_harness


def _harness(**config: Any) -> Harness:
    base: dict[str, Any] = {
        "auth_methods": ["introspection"],
        "client_id": ["gw-client"],
        "client_secret": ["gw-secret"],
    }
    base.update(config)
    return oidc_harness(**base)


def test_introspection_request_shape() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: POST token + token_type_hint, Accept application/json, Basic client auth."""
    h = _harness()
    h.idp.introspection["opaque-1"] = {"active": True, "sub": "client-1", "exp": int(NOW) + 60}
    result, _ = h.send("opaque-1")
    assert result is None
    sent = h.idp.introspect_requests[-1]
    assert sent["form"] == {"token": "opaque-1", "token_type_hint": "access_token"}
    assert sent["accept"] == "application/json"
    assert sent["authorization"] == "Basic " + base64.b64encode(b"gw-client:gw-secret").decode()


def test_client_secret_post_sends_credentials_in_the_body() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: introspection_endpoint_auth_method client_secret_post."""
    h = _harness(introspection_endpoint_auth_method="client_secret_post")
    h.idp.introspection["t"] = {"active": True}
    h.send("t")
    sent = h.idp.introspect_requests[-1]
    assert sent["authorization"] is None
    assert sent["form"]["client_id"] == "gw-client" and sent["form"]["client_secret"] == "gw-secret"


def test_configured_token_param_name_and_hint() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: introspection_token_param_name and introspection_hint."""
    h = _harness(introspection_token_param_name="tok", introspection_hint="refresh_token")
    h.send("t")
    assert h.idp.introspect_requests[-1]["form"]["tok"] == "t"
    assert h.idp.introspect_requests[-1]["form"]["token_type_hint"] == "refresh_token"


def test_inactive_token_gives_401() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: introspection_check_active requires active:true."""
    h = _harness()
    h.idp.introspection["t"] = {"active": False}
    result, _ = h.send("t")
    assert result is not None and result.status == 401
    assert result.headers["WWW-Authenticate"] == 'Bearer realm="idp.example.test", error="invalid_token"'


def test_active_check_can_be_turned_off() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: introspection_check_active=false."""
    h = _harness(introspection_check_active=False)
    h.idp.introspection["t"] = {"active": False}
    assert h.send("t")[0] is None


def test_introspected_token_past_exp_gives_the_expired_description() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: introspected token past exp -> error_description="The access token expired"."""
    h = _harness()
    h.idp.introspection["t"] = {"active": True, "exp": int(NOW) - 5}
    result, _ = h.send("t")
    assert result is not None and result.status == 401
    assert result.headers["WWW-Authenticate"] == (
        'Bearer realm="idp.example.test", error="invalid_token", error_description="The access token expired"'
    )


def test_idp_error_gives_401() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: an unusable introspection answer fails authentication (inferred 401)."""
    h = _harness()
    h.idp.introspection_status = 500
    result, _ = h.send("t")
    assert result is not None and result.status == 401


def test_results_are_cached_until_the_token_exp() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: cache TTL is the token's remaining lifetime."""
    h = _harness()
    h.idp.introspection["t"] = {"active": True, "exp": int(NOW) + 60}
    h.send("t")
    h.send("t")
    assert h.idp.calls["introspect"] == 1
    h.runtime.clock.advance(59)
    h.send("t")
    assert h.idp.calls["introspect"] == 1
    h.runtime.clock.advance(1)
    h.send("t")
    assert h.idp.calls["introspect"] == 2


def test_a_revoked_token_stays_valid_while_cached_and_fails_without_caching() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: a revoked token stays valid until its exp unless caching is off."""
    cached = _harness()
    cached.idp.introspection["t"] = {"active": True, "exp": int(NOW) + 600}
    cached.send("t")
    cached.idp.introspection["t"] = {"active": False}
    assert cached.send("t")[0] is None
    uncached = _harness(cache_introspection=False)
    uncached.idp.introspection["t"] = {"active": True, "exp": int(NOW) + 600}
    uncached.send("t")
    uncached.idp.introspection["t"] = {"active": False}
    assert uncached.refusal("t").status == 401


def test_cache_ttl_applies_without_exp_and_cache_ttl_max_clamps() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: no exp -> cache_ttl; the TTL is clamped by cache_ttl_max."""
    h = _harness(cache_ttl=100)
    h.idp.introspection["t"] = {"active": True}
    h.send("t")
    h.runtime.clock.advance(99)
    h.send("t")
    assert h.idp.calls["introspect"] == 1
    h.runtime.clock.advance(1)
    h.send("t")
    assert h.idp.calls["introspect"] == 2
    clamped = _harness(cache_ttl_max=10)
    clamped.idp.introspection["t"] = {"active": True, "exp": int(NOW) + 600}
    clamped.send("t")
    clamped.runtime.clock.advance(10)
    clamped.send("t")
    assert clamped.idp.calls["introspect"] == 2


def test_inactive_answers_without_exp_are_cached_too() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: an active:false response with no exp is cached (for up to cache_ttl)."""
    h = _harness()
    h.send("t")
    h.idp.introspection["t"] = {"active": True}
    assert h.refusal("t").status == 401
    assert h.idp.calls["introspect"] == 1


def test_introspect_jwt_tokens_detects_revocation_of_a_valid_jwt() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: introspect_jwt_tokens=true also introspects verified JWTs."""
    h = oidc_harness(introspect_jwt_tokens=True, client_id=["c"], client_secret=["s"])
    token = h.idp.token()
    result, _ = h.send(token)
    assert result is not None and result.status == 401
    h.idp.introspection[token] = {"active": True}
    h.plugin.clear_caches()
    assert h.send(token)[0] is None


def test_bearer_falls_through_to_introspection_for_opaque_tokens() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: JWT verification fails first, then introspection is tried."""
    h = oidc_harness(auth_methods=["bearer", "introspection"], client_id=["c"], client_secret=["s"])
    h.idp.introspection["opaque"] = {"active": True, "scope": "read"}
    assert h.send("opaque")[0] is None
    assert h.send(h.idp.token())[0] is None
    assert h.idp.calls["introspect"] == 1


def test_upstream_introspection_header_carries_base64_json() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: upstream_introspection_header (base64 JSON)."""
    import json

    h = _harness(upstream_introspection_header="X-Introspection")
    h.idp.introspection["t"] = {"active": True, "sub": "u1"}
    _, ctx = h.send("t")
    introspection = ctx.request.headers.get("X-Introspection")
    assert introspection is not None
    assert json.loads(base64.b64decode(introspection)) == {
        "active": True,
        "sub": "u1",
    }
