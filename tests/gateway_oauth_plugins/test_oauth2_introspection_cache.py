"""oauth2-introspection's result cache and its defects (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl)."""

from __future__ import annotations

import base64
from typing import Any

from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, Idp, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.base import Exit
from kongformance.gateway.plugins.oauth2_cache import drop_caches
from kongformance.gateway.plugins.oauth2_introspection import Oauth2IntrospectionPlugin, cache_key

BASIC = "Basic " + base64.b64encode(b"kong:secret").decode()
ACTIVE = {"active": True, "username": "alice"}


def plugin(runtime: FakeRuntime, idp: Idp, **config: Any) -> Oauth2IntrospectionPlugin:
    base = {"introspection_url": idp.url + "/introspect", "authorization_value": BASIC}
    return Oauth2IntrospectionPlugin(plugin_entity("Oauth2Introspection.json", {**base, **config}), runtime)


def send(
    runtime: FakeRuntime, p: Oauth2IntrospectionPlugin, token: str = "tok", **headers: str
) -> Exit | None:
    items = [("Authorization", f"Bearer {token}"), *headers.items()]
    return runtime.run(p.access(make_ctx(make_request(headers=items))))


def test_key_is_the_token_alone() -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: cache key `oauth2_introspection:<token>`."""
    assert cache_key("abc") == "oauth2_introspection:abc"


def test_reuses_a_positive_result_until_ttl(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the result is cached for config.ttl seconds (Clock-driven)."""
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, ttl=30)
    assert send(runtime, p) is None
    runtime.clock.advance(29)
    assert send(runtime, p) is None
    assert len(idp.calls("/introspect")) == 1
    runtime.clock.advance(2)
    assert send(runtime, p) is None
    assert len(idp.calls("/introspect")) == 2


def test_a_cached_positive_result_survives_revocation_at_the_idp(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: a revoked token stays accepted until its cache entry expires."""
    idp.answer("/introspect", body=ACTIVE)
    idp.always("/introspect", body={"active": False})
    p = plugin(runtime, idp, ttl=10)
    assert send(runtime, p) is None
    assert send(runtime, p) is None
    runtime.clock.advance(11)
    refused = send(runtime, p)
    assert refused is not None and refused.status == 401


def test_ttl_zero_never_expires(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/: ttl=0 means no expiry."""
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, ttl=0)
    send(runtime, p)
    runtime.clock.advance(10**6)
    send(runtime, p)
    assert len(idp.calls("/introspect")) == 1


def test_shares_entries_between_plugin_instances(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the key is not per instance, so two plugin entities share the result."""
    idp.always("/introspect", body=ACTIVE)
    send(runtime, plugin(runtime, idp))
    send(runtime, plugin(runtime, idp, introspection_url=idp.url + "/other"))
    assert len(idp.calls("/introspect")) == 1 and idp.calls("/other") == []


def test_caches_an_inactive_result_for_five_seconds_from_312(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: since 3.12.0.11/3.13.0.10 an authoritative active:false is cached for 5 s."""
    idp.answer("/introspect", body={"active": False})
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, ttl=60)
    assert send(runtime, p) is not None
    runtime.clock.advance(4)
    assert send(runtime, p) is not None
    runtime.clock.advance(2)
    assert send(runtime, p) is None
    assert len(idp.calls("/introspect")) == 2


def test_caches_an_inactive_result_for_ttl_before_312(idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the 2024 code caches every result, success or error, for config.ttl."""
    runtime = FakeRuntime(kong_version=(3, 9))
    idp.answer("/introspect", body={"active": False})
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, ttl=60)
    send(runtime, p)
    runtime.clock.advance(30)
    assert send(runtime, p) is not None
    assert len(idp.calls("/introspect")) == 1


def test_does_not_cache_an_idp_failure_from_312(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl (inferred, see fidelity ledger): IdP errors are not cached after the 3.12 fix."""
    idp.answer("/introspect", status=503, body="down")
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp)
    assert send(runtime, p) is not None
    assert send(runtime, p) is None


def test_drop_caches_forgets_results(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the /_emulator/caches control empties the node cache."""
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp)
    send(runtime, p)
    drop_caches(runtime)
    send(runtime, p)
    assert len(idp.calls("/introspect")) == 2


# -- defects ----------------------------------------------------------------------------------------------


def test_defect_missing_active_is_active_accepts_a_response_without_active(
    runtime: FakeRuntime, idp: Idp
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: the defect departs from 'active must be truthy'."""
    idp.always("/introspect", body={"scope": "x"})
    assert send(runtime, plugin(runtime, idp), "t1") is not None
    runtime.defects.enable("introspection_missing_active_is_active")
    assert send(runtime, plugin(runtime, idp), "t2") is None


def test_defect_ignore_ttl_caches_forever(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: the defect keeps entries past config.ttl."""
    runtime.defects.enable("introspection_ignore_ttl")
    idp.always("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, ttl=5)
    send(runtime, p)
    runtime.clock.advance(3600)
    send(runtime, p)
    assert len(idp.calls("/introspect")) == 1


def test_defect_forward_client_authorization_sends_the_clients_header(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: Authorization to the IdP must be authorization_value; the defect forwards the client's."""
    runtime.defects.enable("introspection_forward_client_authorization")
    idp.always("/introspect", body=ACTIVE)
    send(runtime, plugin(runtime, idp), "client-tok")
    assert idp.calls("/introspect")[0].headers["authorization"] == "Bearer client-tok"


def test_defect_keep_credentials_leaks_the_token_upstream(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: hide_credentials clears the header; the defect keeps it."""
    runtime.defects.enable("introspection_keep_credentials")
    idp.always("/introspect", body=ACTIVE)
    ctx = make_ctx(make_request(headers=[("Authorization", "Bearer t")]))
    runtime.run(plugin(runtime, idp, hide_credentials=True).access(ctx))
    assert ctx.request.headers.get("Authorization") == "Bearer t"
