"""Expiry, flow by flow: every token stops working when its lifetime ends, caches included.

Each check is ``@expiry_check(prepare)``: ``prepare`` gets the token and fills the caches, the test then
lets time reach the prepared instant and asserts. Locally the virtual clocks move; on real targets every check
was prepared at the run's start and all share one real wait (fixtures.timing), so a run waits out the token
lifetime once. Kong Identity tokens of the profile live 60 s, the shortest ``access_token_duration`` Kong
Identity allows (kong-identity-v1.yaml: minimum 60; profile TOKEN_LIFETIME); oauth2 tokens live
token_expiration = 7200 s (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua), so those checks need a virtual clock. Caches must not outlive
the token: openid-connect introspection (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow), oauth2-introspection ttl (3.6), upstream-oauth
token cache (2.5).
"""

from __future__ import annotations

import pytest
from fixtures import jose
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_oidc_401, assert_proxied, assert_refused
from fixtures.timing import ClockControl, Expiring, ExpiryEnv, Prepared, expiry_check
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles
from kongformance.run_checks import lacks_reason
from negative_flows import oidc_realm

OAUTH2_LIFETIME = 7200  # oauth2 token_expiration default (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua)
OAUTH2_INVALID = {"error": "invalid_token", "error_description": "The access token is invalid or has expired"}
INTROSPECTION_TTL = {"oauth2-introspection": 30, "oauth2-introspection-ttl1": 1}  # route config.ttl (profile)


def assert_invalid_token_json(result: ProxyResult, upstream: Upstream) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 401 with the invalid_token JSON body and challenge."""
    assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == OAUTH2_INVALID


def oauth2_token(proxy: Proxy, handles: ProfileHandles) -> str:
    """A client_credentials token from the oauth2 plugin's token endpoint (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""
    if handles.oauth2 is None:
        pytest.skip(lacks_reason(["db"], "the oauth2 plugin's credentials need a database"))
    cred = handles.oauth2
    form = {"grant_type": "client_credentials", "client_id": cred.id, "client_secret": cred.secret}
    result = proxy.request("oauth2", "POST", data=form, scheme="https", path_suffix="/oauth2/token")
    assert result.status == 200, result.response.text[:200]
    return str(result.json()["access_token"])


def exp_of(token: str) -> float:
    return float(jose.payload_of(token)["exp"])


# ------------------------------------------------------------------------------------------- openid-connect
def prepare_bearer(env: ExpiryEnv, route: str) -> Prepared:
    """A live token the bearer route accepts; due one second past its exp."""
    token = env.tokens.access_token("labelled", scope="read")
    assert_proxied(env.proxy.request(route, token=token), env.upstream)
    return Prepared(token, exp_of(token) + 1)


@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC6750-3.1-invalid-token")
@expiry_check(prepare_bearer)
@pytest.mark.parametrize("route", ["oidc-bearer", "oidc-bearer-scopes", "oidc-bearer-headers"])
def test_openid_connect_bearer_refuses_a_token_after_its_lifetime(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, expiring: Expiring, route: str
) -> None:
    """RFC 7519 4.1.4; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (exp checked locally, leeway 0) on every bearer route."""
    expiring.wait()
    assert_oidc_401(proxy.request(route, token=expiring.state), upstream, oidc_realm(kf_profile))


def prepare_oidc_introspection(env: ExpiryEnv, route: str) -> Prepared:
    """A live token whose active introspection result the route has (on the caching route) cached."""
    token = env.tokens.access_token("default", scope="read")
    assert_proxied(env.proxy.request(route, token=token), env.upstream)
    return Prepared(token, exp_of(token) + 1)


@pytest.mark.requirement("RFC7519-4.1.4-exp", "KONG-OIDC-1.5-introspection-cache")
@expiry_check(prepare_oidc_introspection)
@pytest.mark.parametrize("route", ["oidc-introspection", "oidc-introspection-nocache"])
def test_openid_connect_introspection_refuses_a_token_after_its_lifetime(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, expiring: Expiring, route: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: the cached introspection result lives only for the token's remaining lifetime
    (still served 10 s before exp where time can stop there: virtual clocks)."""
    token = expiring.state
    if expiring.at(exp_of(token) - 10):
        assert_proxied(proxy.request(route, token=token), upstream)
    expiring.wait()
    assert_oidc_401(proxy.request(route, token=token), upstream, oidc_realm(kf_profile))


# ------------------------------------------------------------------------------------------- oauth2-introspection
def prepare_oauth2_introspection(env: ExpiryEnv, route: str) -> Prepared:
    """A live token cached by the route at t0; due past exp and past the ttl of the result cached at t0."""
    token = env.tokens.access_token("default", scope="read")
    assert_proxied(env.proxy.request(route, token=token), env.upstream)
    cached_until = env.clock.now() + INTROSPECTION_TTL[route]
    return Prepared(token, max(exp_of(token), cached_until) + 1)


@pytest.mark.requirement("RFC7519-4.1.4-exp", "KONG-INTRO-3.6-ttl-cache", "KONG-INTRO-3.4-inactive")
@expiry_check(prepare_oauth2_introspection)
@pytest.mark.parametrize("route", ["oauth2-introspection", "oauth2-introspection-ttl1"])
def test_oauth2_introspection_refuses_a_token_after_its_lifetime_once_the_ttl_passed(
    proxy: Proxy, upstream: Upstream, expiring: Expiring, route: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl (ttl 30 / 1), 3.4 (inactive -> 401): never served past exp + ttl."""
    expiring.wait()
    assert_invalid_token_json(proxy.request(route, token=expiring.state), upstream)


@pytest.mark.requirement("KONG-INTRO-3.6-ttl-cache", "KONG-INTRO-3.4-inactive")
@pytest.mark.needs("virtual_clock")  # caches the result exactly 5 s before exp: a stop real time cannot make
def test_oauth2_introspection_keeps_a_fresh_result_at_most_ttl_seconds(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, clock: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: a result cached just before exp is not served past exp + ttl (ttl 30)."""
    token = tokens.access_token("default", scope="read")
    clock.advance(TOKEN_LIFETIME - 5)
    assert_proxied(proxy.request("oauth2-introspection", token=token), upstream)  # cached at exp - 5
    clock.advance(36)  # exp + 31: the cached result is older than ttl
    assert_invalid_token_json(proxy.request("oauth2-introspection", token=token), upstream)


# ------------------------------------------------------------------------------------------- oauth2 and kong_oauth2
@pytest.mark.requirement("KONG-OAUTH2-4.3-expiry", "KONG-OAUTH2-4.3-validation")
@pytest.mark.needs("virtual_clock")
def test_oauth2_refuses_its_token_after_token_expiration(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, clock: ClockControl
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: expired when now - created_at > expires_in (7200 s)."""
    token = oauth2_token(proxy, kf_profile)
    clock.advance(OAUTH2_LIFETIME - 10)
    assert_proxied(proxy.request("oauth2", token=token), upstream)
    clock.advance(11)
    assert_invalid_token_json(proxy.request("oauth2", token=token), upstream)


@pytest.mark.requirement("KONG-OAUTH2-4.3-expiry", "KONG-OIDC-1.5-kong-oauth2")
@pytest.mark.needs("virtual_clock")
def test_kong_oauth2_refuses_an_oauth2_token_after_token_expiration(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, clock: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: kong_oauth2 rejects expired tokens (now - created_at > expires_in)."""
    token = oauth2_token(proxy, kf_profile)
    clock.advance(OAUTH2_LIFETIME - 10)
    assert_proxied(proxy.request("oidc-kong-oauth2", token=token), upstream)
    clock.advance(11)
    assert_oidc_401(proxy.request("oidc-kong-oauth2", token=token), upstream, oidc_realm(kf_profile))


# ------------------------------------------------------------------------------------------- upstream-oauth
def prepare_upstream_oauth(env: ExpiryEnv, variant: str) -> Prepared:
    """The token upstream-oauth injects now (from its cache or fresh); due one second past that token's exp."""
    first = env.proxy.request(variant)
    assert_proxied(first, env.upstream)
    (old,) = env.upstream.header_values(first, "Authorization")
    return Prepared(old, exp_of(old.partition(" ")[2]) + 1)


@pytest.mark.requirement("KONG-UPO-2.5-cache", "KONG-UPO-2.5-injection")
@expiry_check(prepare_upstream_oauth)
@pytest.mark.parametrize("variant", ["upstream-oauth-post", "upstream-oauth-basic"])
def test_upstream_oauth_never_injects_an_expired_token(
    proxy: Proxy,
    upstream: Upstream,
    issuer: IssuerClient,
    kf_profile: ProfileHandles,
    expiring: Expiring,
    variant: str,
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: the cached token is dropped by expires_in - eagerly_expire; what reaches the
    upstream after the first token's lifetime is a new, live token."""
    expiring.wait()
    later = proxy.request(variant)
    assert_proxied(later, upstream)
    (value,) = upstream.header_values(later, "Authorization")
    assert value != expiring.state
    token = value.partition(" ")[2]
    assert jose.payload_of(token)["exp"] > expiring.now()
    gw = kf_profile.clients["gateway"]
    assert issuer.introspect(token, gw.id, gw.secret).body.get("active") is True
