"""Expiry, flow by flow: every token stops working when its lifetime ends, caches included.

Time moves with the ``clock`` fixture (virtual clocks locally; real waiting elsewhere, so the two-hour
oauth2 lifetimes need a virtual clock). Kong Identity tokens of the profile live 60 s (kong-identity.md A.6,
profile TOKEN_LIFETIME); oauth2 tokens live token_expiration = 7200 s (kong-plugins.md 4.1). Caches must
not outlive the token: openid-connect introspection (kong-plugins.md 1.5), oauth2-introspection ttl (3.6),
upstream-oauth token cache (2.5).
"""

from __future__ import annotations

import pytest
from fixtures import jose
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_oidc_401, assert_proxied, assert_refused
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

from kongformance.clients.issuer import IssuerClient
from kongformance.profile import TOKEN_LIFETIME, ProfileHandles
from negative_flows import oidc_realm

OAUTH2_LIFETIME = 7200  # oauth2 token_expiration default (kong-plugins.md 4.1)
OAUTH2_INVALID = {"error": "invalid_token", "error_description": "The access token is invalid or has expired"}


def assert_invalid_token_json(result: ProxyResult, upstream: Upstream) -> None:
    """kong-plugins.md 3.4 / 4.3: 401 with the invalid_token JSON body and challenge."""
    assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == OAUTH2_INVALID


def oauth2_token(proxy: Proxy, handles: ProfileHandles) -> str:
    """A client_credentials token from the oauth2 plugin's token endpoint (kong-plugins.md 4.2)."""
    if handles.oauth2 is None:
        pytest.skip("the profile has no oauth2 credential on this target")
    cred = handles.oauth2
    form = {"grant_type": "client_credentials", "client_id": cred.id, "client_secret": cred.secret}
    result = proxy.request("oauth2", "POST", data=form, scheme="https", path_suffix="/oauth2/token")
    assert result.status == 200, result.response.text[:200]
    return str(result.json()["access_token"])


# ------------------------------------------------------------------------------------------- openid-connect
@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("route", ["oidc-bearer", "oidc-bearer-scopes", "oidc-bearer-headers"])
def test_openid_connect_bearer_refuses_a_token_after_its_lifetime(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    route: str,
) -> None:
    """RFC 7519 4.1.4; kong-plugins.md 1.4 (exp checked locally, leeway 0) on every bearer route."""
    token = tokens.access_token("labelled", scope="read")
    assert_proxied(proxy.request(route, token=token), upstream)
    clock.advance(TOKEN_LIFETIME + 1)
    assert_oidc_401(proxy.request(route, token=token), upstream, oidc_realm(kf_profile))


@pytest.mark.requirement("RFC7519-4.1.4-exp", "KONG-OIDC-1.5-introspection-cache")
@pytest.mark.parametrize("route", ["oidc-introspection", "oidc-introspection-nocache"])
def test_openid_connect_introspection_refuses_a_token_after_its_lifetime(
    proxy: Proxy,
    upstream: Upstream,
    tokens: TokenFactory,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    route: str,
) -> None:
    """kong-plugins.md 1.5: the cached introspection result lives only for the token's remaining lifetime."""
    token = tokens.access_token("default", scope="read")
    assert_proxied(proxy.request(route, token=token), upstream)
    clock.advance(TOKEN_LIFETIME - 10)
    assert_proxied(proxy.request(route, token=token), upstream)
    clock.advance(11)
    assert_oidc_401(proxy.request(route, token=token), upstream, oidc_realm(kf_profile))


# ------------------------------------------------------------------------------------------- oauth2-introspection
@pytest.mark.requirement("RFC7519-4.1.4-exp", "KONG-INTRO-3.6-ttl-cache", "KONG-INTRO-3.4-inactive")
@pytest.mark.parametrize("route", ["oauth2-introspection", "oauth2-introspection-ttl1"])
def test_oauth2_introspection_refuses_a_token_after_its_lifetime_once_the_ttl_passed(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, clock: ClockControl, route: str
) -> None:
    """kong-plugins.md 3.6 (ttl 30 / 1), 3.4 (inactive -> 401): never served past exp + ttl."""
    token = tokens.access_token("default", scope="read")
    assert_proxied(proxy.request(route, token=token), upstream)
    clock.advance(TOKEN_LIFETIME + 31)  # past exp and past any ttl of the result cached at t0
    assert_invalid_token_json(proxy.request(route, token=token), upstream)


@pytest.mark.requirement("KONG-INTRO-3.6-ttl-cache", "KONG-INTRO-3.4-inactive")
def test_oauth2_introspection_keeps_a_fresh_result_at_most_ttl_seconds(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, clock: ClockControl
) -> None:
    """kong-plugins.md 3.6: a result cached just before exp is not served past exp + ttl (ttl 30)."""
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
    """kong-plugins.md 4.3: expired when now - created_at > expires_in (7200 s)."""
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
    """kong-plugins.md 1.5: kong_oauth2 rejects expired tokens (now - created_at > expires_in)."""
    token = oauth2_token(proxy, kf_profile)
    clock.advance(OAUTH2_LIFETIME - 10)
    assert_proxied(proxy.request("oidc-kong-oauth2", token=token), upstream)
    clock.advance(11)
    assert_oidc_401(proxy.request("oidc-kong-oauth2", token=token), upstream, oidc_realm(kf_profile))


# ------------------------------------------------------------------------------------------- upstream-oauth
@pytest.mark.requirement("KONG-UPO-2.5-cache", "KONG-UPO-2.5-injection")
@pytest.mark.parametrize("variant", ["upstream-oauth-post", "upstream-oauth-basic"])
def test_upstream_oauth_never_injects_an_expired_token(
    proxy: Proxy,
    upstream: Upstream,
    issuer: IssuerClient,
    kf_profile: ProfileHandles,
    clock: ClockControl,
    variant: str,
) -> None:
    """kong-plugins.md 2.5: the cached token is dropped by expires_in - eagerly_expire; what reaches the
    upstream after the first token's lifetime is a new, live token."""
    first = proxy.request(variant)
    assert_proxied(first, upstream)
    old = first.upstream_header("Authorization")
    clock.advance(TOKEN_LIFETIME + 1)
    later = proxy.request(variant)
    assert_proxied(later, upstream)
    value = later.upstream_header("Authorization")
    assert value is not None and value != old
    token = value.partition(" ")[2]
    assert jose.payload_of(token)["exp"] > clock.now()
    gw = kf_profile.clients["gateway"]
    assert issuer.introspect(token, gw.id, gw.secret).body.get("active") is True
