"""openid-connect bearer verification where Kong's plugin reference pins behaviour the other suites leave
open: leeway on nbf and iat, hide_credentials for a token in the body, the access-token headers, and a kid
the JWKS does not publish.

Source: Kong's openid-connect configuration reference (https://developer.konghq.com/plugins/openid-connect/reference/:
``leeway``, ``hide_credentials``, ``bearer_token_param_type``) and RFC 7515 4.1.4 (kid). Routes: ``oidc-bearer``
(defaults), ``oidc-bearer-leeway`` (leeway 30), ``oidc-bearer-hide`` (hide_credentials true).
"""

from __future__ import annotations

import pytest
from fixtures.http import Proxy, Upstream
from fixtures.oracle import assert_oidc_401, assert_proxied
from fixtures.tokens import Minter, TokenFactory

REFERENCE = "https://developer.konghq.com/plugins/openid-connect/reference/"


@pytest.mark.requirement("KONG-OIDC-leeway-nbf-iat")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize(("route", "allowed"), [("oidc-bearer-leeway", True), ("oidc-bearer", False)])
def test_leeway_also_covers_nbf_and_iat_in_the_near_future(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str, claim: str, route: str, allowed: bool
) -> None:
    """config.leeway "Defines leeway time (in seconds) for auth_time, exp, iat, and nbf claims" (reference):
    a token whose nbf/iat is 20 s ahead passes with leeway 30 and fails with leeway 0."""
    now = mint.now()
    claims = mint.claims(iat=now, nbf=now, exp=now + 120)
    claims[claim] = now + 20
    result = proxy.request(route, token=mint.token(claims))
    if allowed:
        assert_proxied(result, upstream)
    else:
        assert_oidc_401(result, upstream, realm)


@pytest.mark.requirement("KONG-OIDC-hide-body-token")
def test_hide_credentials_removes_a_token_sent_in_a_form_body(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory
) -> None:
    """config.hide_credentials "Remove the credentials used for authentication from the request" (reference),
    whatever bearer_token_param_type found it: a form-body access_token does not reach the upstream, the
    rest of the form does."""
    token = tokens.access_token("default")
    result = proxy.request("oidc-bearer-hide", "POST", data={"access_token": token, "kf": "1"})
    assert_proxied(result, upstream)
    seen = result.upstream_saw()
    assert token not in str(seen.get("data", "")) and "access_token" not in (seen.get("form") or {})
    assert (seen.get("form") or {}).get("kf") == "1"


@pytest.mark.requirement("KONG-OIDC-token-headers")
@pytest.mark.parametrize("header", ["access-token", "x-access-token"])
def test_reads_the_bearer_token_from_the_access_token_headers(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, header: str
) -> None:
    """config.bearer_token_param_type ``header``: "search the Authorization, access-token, and x-access-token
    HTTP headers" (reference): a valid token in either header alone is accepted."""
    result = proxy.request("oidc-bearer", headers={header: tokens.access_token("default")})
    assert_proxied(result, upstream)


@pytest.mark.requirement("KONG-OIDC-unknown-kid")
@pytest.mark.needs("issuer_control")
def test_refuses_a_token_whose_kid_the_jwks_does_not_publish(
    proxy: Proxy, upstream: Upstream, mint: Minter, realm: str
) -> None:
    """RFC 7515 4.1.4 (kid names the key): a token signed by the issuer's current key but naming a kid the
    JWKS does not publish is refused (401), never verified against the other published keys."""
    token = mint.token(mint.claims(), header={"kid": "kf-unpublished-kid"})
    assert_oidc_401(proxy.request("oidc-bearer", token=token), upstream, realm)
