"""openid-connect with auth_methods [introspection]: every token checked at Kong Identity's introspection endpoint.

Expected behaviour from https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (the introspection call and cache), 1.6 (scopes), 1.7 (error
matrix) and the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) E (59-65). The introspection requests Kong sends are read
from the issuer emulator's request log (each test's token is fresh, so its fingerprint finds exactly its own
calls); IdP answers are scripted with the issuer's fault injection under the ``clock`` fixture, which runs
the test alone.
"""

from __future__ import annotations

import pytest
from fixtures import jose
from fixtures.forge import Forger
from fixtures.http import Proxy, Upstream
from fixtures.issuer_control import IssuerControl
from fixtures.oracle import (
    assert_oidc_401,
    assert_oidc_403,
    assert_proxied,
)
from fixtures.timing import ClockControl
from fixtures.tokens import TokenFactory

FLOW = "oidc-introspection"
ROUTE = "oidc-introspection-nocache"
CACHED = "oidc-introspection"
SCOPED = "oidc-introspection-scopes"


# ------------------------------------------------------------------------------------------- success
@pytest.mark.requirement("RFC7662-2.2-active", "KONG-OIDC-1.9-upstream-token")
@pytest.mark.parametrize("route", [CACHED, ROUTE])
def test_accepts_an_active_token_and_forwards_it_upstream(
    proxy: Proxy, upstream: Upstream, token: str, route: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (active:true), 1.9 (upstream gets Authorization: Bearer <token>)."""
    result = proxy.request(route, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("Authorization") == f"Bearer {token}"


@pytest.mark.requirement(
    "KONG-OIDC-1.5-introspection-inactive", "RFC6750-3.1-invalid-token", "KONG-OIDC-1.7-401-body"
)
@pytest.mark.parametrize("kind", ["opaque", "flipped-signature", "alg-none", "edited-payload"])
@pytest.mark.parametrize("route", [CACHED, ROUTE])
def test_refuses_a_token_the_issuer_reports_inactive(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, kind: str, route: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (active must be true), 1.7; anchors 8 E.59."""
    bad = {
        "opaque": "kf-not-a-token-0123456789",
        "flipped-signature": jose.flip_signature_bit(token),
        "alg-none": jose.unsigned(jose.payload_of(token)),
        "edited-payload": jose.with_payload(token, scope="read write admin"),
    }[kind]
    assert_oidc_401(proxy.request(route, token=bad), upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.5-introspection-inactive", "RFC7515-4.1.4-unknown-kid")
def test_refuses_a_token_signed_by_a_key_the_issuer_does_not_know(
    proxy: Proxy, upstream: Upstream, forge: Forger, realm: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow; anchors 8 E.59: the issuer reports a token it cannot verify inactive."""
    assert_oidc_401(proxy.request(ROUTE, token=forge.attacker_signed()), upstream, realm)


@pytest.mark.requirement("RFC6750-2.1-scheme", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("scheme", ["Basic", "Digest", "Token"])
def test_refuses_a_valid_token_sent_with_another_scheme(
    proxy: Proxy, upstream: Upstream, token: str, realm: str, scheme: str
) -> None:
    """RFC 6750 2.1; https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants (the bearer scheme only); anchors 8 A.2."""
    assert_oidc_401(proxy.request(ROUTE, token=token, auth_scheme=scheme), upstream, realm)


# ------------------------------------------------------------------------------------------- scopes (1.6)
@pytest.mark.requirement(
    "KONG-OIDC-1.6-scopes-required", "RFC6750-3.1-insufficient-scope", "KONG-OIDC-1.7-403-body"
)
@pytest.mark.parametrize(("scope", "allowed"), [("read", True), ("write", False), (None, False)])
def test_enforces_required_scopes_from_the_introspection_result(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, realm: str, scope: str | None, allowed: bool
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization (looked up in the introspection result first); anchors 8 E.61: 403 insufficient_scope."""
    result = proxy.request(SCOPED, token=tokens.access_token("default", scope=scope))
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_oidc_403(result, upstream, realm)


@pytest.mark.requirement("KONG-OIDC-1.5-introspection-cache")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize(("route", "calls"), [(CACHED, 1), (ROUTE, 3)])
def test_introspects_once_with_cache_introspection_and_every_time_without(
    proxy: Proxy, upstream: Upstream, issuer_control: IssuerControl, token: str, route: str, calls: int
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: cache_introspection caches for the token's remaining lifetime."""
    for _ in range(3):
        assert_proxied(proxy.request(route, token=token), upstream)
    assert len(issuer_control.carrying("introspect", token)) == calls


@pytest.mark.requirement("KONG-OIDC-1.5-introspection-cache", "RFC7662-2.2-inactive")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_reintrospects_an_answer_without_exp_after_cache_ttl(
    proxy: Proxy,
    upstream: Upstream,
    issuer_control: IssuerControl,
    clock: ClockControl,
    token: str,
    realm: str,
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: an answer without exp is cached for cache_ttl (3600 s), not longer; the issuer's
    next answer (the token has expired by then) is what counts."""
    with issuer_control.fault("introspect", status=200, body={"active": True, "scope": "read"}, times=1):
        assert_proxied(proxy.request(CACHED, token=token), upstream)
    clock.advance(600)
    assert_proxied(proxy.request(CACHED, token=token), upstream)  # still the cached answer
    assert len(issuer_control.carrying("introspect", token)) == 1
    clock.advance(3001)
    assert_oidc_401(proxy.request(CACHED, token=token), upstream, realm)
    assert len(issuer_control.carrying("introspect", token)) == 2
