"""Introspection results through both introspection flows: active, inactive, revoked, expired, foreign, IdP failure.

The same token situations are driven through openid-connect (auth_methods [introspection]) and
oauth2-introspection: the issuer decides (RFC 7662 2.2) and each plugin must turn the answer into its own
documented response (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and 3.4). Revocation goes through Kong Identity's token records
(https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens) and RFC 7009; "foreign" tokens come from a second auth server created for this module.
the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) E (59-65).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fixtures import jose
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_proxied
from fixtures.timing import Expiring, ExpiryEnv, Prepared, expiry_check

import negative_flows
from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import IssuerClient
from kongformance.profile import AUDIENCE, TOKEN_LIFETIME, ProfileHandles
from kongformance.run_ledger import run_labels


@dataclass(frozen=True)
class Routes:
    """An introspection flow's routes: one that caches nothing, one that caches an active result."""

    flow: negative_flows.Flow
    route: str
    cached_route: str
    cache_ttl: int  # how long the caching route may keep an active result of a fresh token

    def refused(self, result: ProxyResult, upstream: Upstream, handles: ProfileHandles) -> None:
        """The flow's documented 401 (negative_flows.expect_refusal)."""
        negative_flows.expect_refusal(self.flow, result, upstream, handles)


FLOWS = {
    "oidc-introspection": Routes(
        negative_flows.OIDC_INTROSPECTION, "oidc-introspection-nocache", "oidc-introspection", TOKEN_LIFETIME
    ),  # cache TTL = the token's remaining lifetime (https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow)
    "oauth2-introspection": Routes(
        negative_flows.OAUTH2_INTROSPECTION, "oauth2-introspection-ttl1", "oauth2-introspection", 30
    ),  # cache TTL = config.ttl (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl)
}


@pytest.fixture(params=list(FLOWS))
def flow(request: pytest.FixtureRequest) -> Routes:
    return FLOWS[request.param]


def revoke_record(api: IdentityApi, handles: ProfileHandles, token: str) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens: deleting the token record (id == jti) revokes the token."""
    api.revoke_token(handles.auth_server.id, handles.clients["default"].id, jose.payload_of(token)["jti"])


@pytest.fixture(scope="module")
def foreign_token_source(
    identity_api: IdentityApi, kf_profile: ProfileHandles
) -> Iterator[Callable[[], str]]:
    """A second auth server of the same organisation with one client: its tokens are foreign to the profile's."""
    name = f"kf-foreign-{kf_profile.run_id}-{secrets.token_hex(3)}"
    server = identity_api.create_auth_server(
        name, AUDIENCE, description="kongformance foreign issuer", labels=run_labels(kf_profile.run_id)
    )
    try:
        client = identity_api.create_client(server["id"], name, access_token_duration=TOKEN_LIFETIME)
        foreign = IssuerClient(server["issuer"])

        def fresh() -> str:
            return foreign.token(client["id"], client["client_secret"]).access_token

        yield fresh
        foreign.close()
    finally:
        identity_api.delete_auth_server(server["id"], force=True)


# ------------------------------------------------------------------------------------------- active / inactive
@pytest.mark.requirement("RFC7662-2.2-active")
def test_an_active_token_is_proxied(proxy: Proxy, upstream: Upstream, flow: Routes, token: str) -> None:
    """RFC 7662 2.2; https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works (positive twin of anchors 8 E.59)."""
    assert_proxied(proxy.request(flow.route, token=token), upstream)


@pytest.mark.requirement("RFC7662-2.2-inactive", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("kind", ["opaque", "tampered-jwt"])
def test_a_token_the_issuer_never_issued_is_refused(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, flow: Routes, token: str, kind: str
) -> None:
    """RFC 7662 2.2 (active:false); anchors 8 E.59."""
    bad = "kf-opaque-" + secrets.token_hex(12) if kind == "opaque" else jose.flip_signature_bit(token)
    flow.refused(proxy.request(flow.route, token=bad), upstream, kf_profile)


# ------------------------------------------------------------------------------------------- revoked
@pytest.mark.requirement("KI-A.8-revocation", "RFC7662-2.2-inactive", "RS-no-upstream-on-reject")
def test_a_token_revoked_through_its_token_record_is_refused(
    proxy: Proxy,
    upstream: Upstream,
    identity_api: IdentityApi,
    kf_profile: ProfileHandles,
    flow: Routes,
    token: str,
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/listAuthServerClientTokens and https://developer.konghq.com/how-to/configure-kong-identity-oauth-introspection/ (revoked tokens fail introspection); anchors 8 E.64 (uncached route)."""
    revoke_record(identity_api, kf_profile, token)
    flow.refused(proxy.request(flow.route, token=token), upstream, kf_profile)


def prepare_revoked_while_cached(env: ExpiryEnv, flow: str) -> Prepared:
    """An active result cached by the flow's caching route, then the token revoked; due when that cache ends."""
    f = FLOWS[flow]
    token = env.tokens.access_token("default", scope="read")
    assert_proxied(env.proxy.request(f.cached_route, token=token), env.upstream)
    cached_at = env.clock.now()
    revoke_record(env.fixture("identity_api"), env.profile, token)
    return Prepared((token, cached_at), cached_at + f.cache_ttl + 1)


@pytest.mark.requirement("KI-A.8-revocation", "KONG-INTRO-3.6-ttl-cache", "KONG-OIDC-1.5-introspection-cache")
@expiry_check(prepare_revoked_while_cached)
def test_a_revoked_token_is_refused_once_the_introspection_cache_expires(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, expiring: Expiring, flow: Routes
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-ttl: a cached active result outlives revocation until the cache TTL ends
    (openid-connect: the token's remaining lifetime; oauth2-introspection: ttl); anchors 8 E.64. The revoked
    token still passing 20 s before the TTL ends is checked where time can stop there (virtual clocks)."""
    token, cached_at = expiring.state
    if expiring.at(cached_at + flow.cache_ttl - 20):
        assert_proxied(proxy.request(flow.cached_route, token=token), upstream)
    expiring.wait()
    flow.refused(proxy.request(flow.cached_route, token=token), upstream, kf_profile)


# ------------------------------------------------------------------------------------------- expired
def prepare_expiring(env: ExpiryEnv, flow: str) -> Prepared:
    """A live token the flow's uncached route accepts; due one second past its exp."""
    token = env.tokens.access_token("default", scope="read")
    assert_proxied(env.proxy.request(FLOWS[flow].route, token=token), env.upstream)
    return Prepared(token, float(jose.payload_of(token)["exp"]) + 1)


@pytest.mark.requirement("RFC7519-4.1.4-exp", "RFC7662-2.2-inactive", "RFC6750-3.1-invalid-token")
@expiry_check(prepare_expiring)
def test_an_expired_token_is_refused(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, expiring: Expiring, flow: Routes
) -> None:
    """RFC 7662 2.2 (an expired token is inactive); anchors 8 E.60; token lifetime 60 s (profile)."""
    expiring.wait()
    flow.refused(proxy.request(flow.route, token=expiring.state), upstream, kf_profile)


# ------------------------------------------------------------------------------------------- foreign
@pytest.mark.requirement("RFC7662-2.2-inactive", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
def test_a_token_of_another_auth_server_is_refused(
    proxy: Proxy,
    upstream: Upstream,
    kf_profile: ProfileHandles,
    foreign_token_source: Callable[[], str],
    flow: Routes,
) -> None:
    """RFC 7662 2.2; https://developer.konghq.com/identity/auth-servers/ (one issuer per auth server); anchors 8 E.61 (token not for this RS)."""
    foreign = foreign_token_source()
    assert jose.payload_of(foreign)["iss"] != kf_profile.auth_server.issuer
    flow.refused(proxy.request(flow.route, token=foreign), upstream, kf_profile)
