"""Kong's OSS oauth2 plugin issuing client_credentials tokens, and openid-connect verifying them (kong_oauth2).

Expected behaviour from https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua-4.3 (token endpoint at ``<route>/oauth2/token`` over HTTPS,
resource requests) and 1.5 (openid-connect ``auth_methods: [kong_oauth2]``). The profile's oauth2 consumer
holds one oauth2 credential (``kf_profile.oauth2``); route ``oauth2`` has global_credentials, routes
``oauth2-service`` and ``oauth2-service-other`` bind tokens to their Service. Needs a database (the plugin
writes tokens): every route variant here is absent, and its tests skipped, on a DB-less target.
"""

from __future__ import annotations

import pytest
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.kong_oauth2 import TOKEN_PATH, credential, issue, token_request
from fixtures.oracle import (
    OAUTH2_INVALID,
    OAUTH2_MISSING,
    assert_oidc_401,
    assert_proxied,
    assert_refused,
    json_body,
    parse_www_authenticate,
)
from fixtures.tokens import TokenFactory

from kongformance.clients.kong_admin import KongAdmin
from kongformance.profile import ProfileHandles
from kongformance.targets import Stack

FLOW = "oauth2"
ROUTE = "oauth2"
KONG_OAUTH2 = "oidc-kong-oauth2"
TOKEN_EXPIRATION = 7200  # oauth2 token_expiration default (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua)
MISSING, INVALID = OAUTH2_MISSING, OAUTH2_INVALID
GLOBAL_ON_BOUND = (
    "The access token is global, but the current plugin is configured without 'global_credentials'"
)


def assert_token_error(
    result: ProxyResult, upstream: Upstream, status: int, error: str, description: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: {"error": ..., "error_description": ...}; answered by Kong, never proxied."""
    assert result.status == status, f"{result.status}: {result.response.text[:200]!r}"
    assert result.json() == {"error": error, "error_description": description}
    upstream.assert_not_reached(result)


def assert_invalid(
    result: ProxyResult, upstream: Upstream, description: str = INVALID["error_description"]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 401 invalid_token with the description in body and challenge."""
    ch = assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == {"error": "invalid_token", "error_description": description}
    assert ch is not None and ch.params.get("error_description") == description


# ------------------------------------------------------------------------------------------- token endpoint (4.2)
@pytest.mark.requirement("KONG-OAUTH2-4.2-token", "RFC6749-5.1-no-store")
@pytest.mark.parametrize("auth", ["body", "basic"])
def test_issues_a_bearer_token_for_client_credentials_over_https(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, auth: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 200 {access_token (32 chars), token_type bearer, expires_in 7200}, no refresh_token,
    Cache-Control no-store and Pragma no-cache; answered by the plugin, never proxied."""
    result = token_request(proxy, kf_profile, auth=auth)
    assert result.status == 200, result.response.text[:200]
    body = result.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TOKEN_EXPIRATION
    assert isinstance(body["access_token"], str) and len(body["access_token"]) == 32
    assert result.response.headers.get("cache-control") == "no-store"
    assert result.response.headers.get("pragma") == "no-cache"
    upstream.assert_not_reached(result)


@pytest.mark.requirement("KONG-OAUTH2-4.2-https-only")
def test_refuses_the_token_endpoint_over_plain_http(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 400 access_denied "You must use HTTPS"."""
    result = token_request(proxy, kf_profile, scheme="http")
    assert_token_error(result, upstream, 400, "access_denied", "You must use HTTPS")


@pytest.mark.requirement("KONG-OAUTH2-4.2-errors")
def test_refuses_a_get_to_the_token_endpoint_as_invalid_method(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 405 invalid_method with WWW-Authenticate Bearer error="invalid_method"."""
    result = token_request(proxy, kf_profile, method="GET")
    description = "The HTTP method GET is invalid for the token endpoint"
    assert_token_error(result, upstream, 405, "invalid_method", description)
    challenges = parse_www_authenticate(result.response.headers.get("www-authenticate", ""), strict=False)
    assert challenges and challenges[0].scheme.lower() == "bearer"
    assert challenges[0].params.get("error") == "invalid_method"


REDIRECT_URI_ERROR = (
    "Invalid redirect_uri that does not match with any redirect_uri created with the application"
)


@pytest.mark.requirement("KONG-OAUTH2-4.2-errors", "RFC6749-5.2-unsupported-grant-type")
@pytest.mark.parametrize("grant_type", ["password", "kf-grant", ""])
def test_refuses_a_grant_type_the_plugin_does_not_enable(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, grant_type: str, deviations: DeviationCheck
) -> None:
    """RFC 6749 5.2 wants unsupported_grant_type; Kong's issue_token then checks the redirect_uri of any
    non-client_credentials grant and overwrites the error: a credential without redirect_uris gets
    invalid_request (Kong/kong kong/plugins/oauth2/access.lua; recorded deviation oauth2-grant-type-error-overwritten).
    """
    result = token_request(proxy, kf_profile, grant_type=grant_type)
    body = json_body(result)
    error = body.get("error") if isinstance(body, dict) else None
    deviations.check(
        "RFC6749-5.2-unsupported-grant-type", error == "unsupported_grant_type", f"error {error!r}", flow=FLOW
    )
    assert_token_error(result, upstream, 400, "invalid_request", REDIRECT_URI_ERROR)


@pytest.mark.requirement("KONG-OAUTH2-4.2-errors", "RFC6749-5.2-invalid-client")
def test_refuses_an_unsupported_grant_type_from_an_unknown_client(proxy: Proxy, upstream: Upstream) -> None:
    """Kong/kong kong/plugins/oauth2/access.lua: without a client the invalid_client check comes last and wins."""
    result = proxy.request(
        ROUTE, "POST", scheme="https", path_suffix=TOKEN_PATH, data={"grant_type": "kf-grant"}
    )
    assert_token_error(result, upstream, 400, "invalid_client", "Invalid client authentication")


@pytest.mark.requirement("KONG-OAUTH2-4.2-errors", "RFC6749-5.2-invalid-client")
@pytest.mark.parametrize("case", ["wrong-secret", "unknown-client"])
def test_refuses_bad_client_credentials_in_the_body_with_400(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, case: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua and open question 6: invalid_client from body credentials is a 400 without challenge."""
    if case == "wrong-secret":
        result = token_request(proxy, kf_profile, secret="not-the-secret")
    else:
        result = proxy.request(
            ROUTE,
            "POST",
            scheme="https",
            path_suffix=TOKEN_PATH,
            data={"grant_type": "client_credentials", "client_id": "kf-unknown", "client_secret": "x"},
        )
    assert_token_error(result, upstream, 400, "invalid_client", "Invalid client authentication")
    assert "www-authenticate" not in result.response.headers


@pytest.mark.requirement("KONG-OAUTH2-4.2-errors", "RFC6749-5.2-invalid-client")
def test_refuses_bad_basic_credentials_with_401_and_a_basic_challenge(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: invalid_client is 401 with WWW-Authenticate Basic realm="OAuth2.0" for a Basic header."""
    result = token_request(proxy, kf_profile, auth="basic", secret="not-the-secret")
    assert_token_error(result, upstream, 401, "invalid_client", "Invalid client authentication")
    (challenge,) = parse_www_authenticate(result.response.headers.get("www-authenticate", ""))
    assert challenge.scheme == "Basic" and challenge.params == {"realm": "OAuth2.0"}


@pytest.mark.requirement("KONG-OAUTH2-4.2-scope", "RFC6749-5.2-invalid-scope")
@pytest.mark.parametrize("scope", ["admin", "read admin"])
def test_refuses_a_scope_outside_the_configured_scopes(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, scope: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: each requested scope must be in config.scopes, else 400 invalid_scope."""
    result = token_request(proxy, kf_profile, scope=scope)
    assert_token_error(result, upstream, 400, "invalid_scope", '"admin" is an invalid scope')


# ------------------------------------------------------------------------------------------- resource requests (4.3)
@pytest.mark.requirement("KONG-OAUTH2-4.3-headers", "KONG-OAUTH2-4.2-scope")
@pytest.mark.parametrize(
    "header", ["X-Consumer-ID", "X-Consumer-Username", "X-Consumer-Custom-ID", "X-Credential-Identifier"]
)
def test_identifies_the_consumer_and_credential_to_the_upstream(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kong_admin: KongAdmin, header: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: X-Consumer-* of the credential's consumer, X-Credential-Identifier = client_id."""
    token = issue(proxy, kf_profile)
    result = proxy.request(ROUTE, token=token, headers={header: "forged"})
    assert_proxied(result, upstream)
    run = kf_profile.run_id
    expected = {
        "X-Consumer-Username": f"kf-oauth2-user-{run}",
        "X-Consumer-Custom-ID": f"kf-oauth2-custom-{run}",
        "X-Credential-Identifier": credential(kf_profile).id,
    }
    if header == "X-Consumer-ID":  # the id Kong gave the consumer, read back from the Admin API
        found = [
            c
            for c in kong_admin.list_all("/consumers")
            if c.get("username") == expected["X-Consumer-Username"]
        ]
        assert len(found) == 1, f"consumer {expected['X-Consumer-Username']!r}: {len(found)} found"
        expected[header] = str(found[0]["id"])
    assert result.upstream_header(header) == expected[header]


@pytest.mark.requirement("KONG-OAUTH2-4.3-headers", "KONG-OAUTH2-4.2-scope")
@pytest.mark.parametrize("scope", ["read", "read write"])
def test_forwards_the_granted_scope_as_x_authenticated_scope(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, scope: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (stored scope is the space-joined list), 4.3 (X-Authenticated-Scope, spaces)."""
    token = issue(proxy, kf_profile, scope=scope)
    result = proxy.request(ROUTE, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Authenticated-Scope") == scope


@pytest.mark.requirement("KONG-OAUTH2-4.3-validation", "KONG-OAUTH2-4.3-headers")
def test_accepts_the_token_as_an_access_token_query_parameter(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: without an Authorization header the access_token query parameter is read."""
    result = proxy.request(ROUTE, params={"access_token": issue(proxy, kf_profile)})
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Credential-Identifier") == credential(kf_profile).id


@pytest.mark.requirement("KONG-OAUTH2-4.3-validation", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("kind", ["random", "issuer-jwt", "truncated"])
def test_refuses_a_token_the_plugin_did_not_issue(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, tokens: TokenFactory, kind: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: unknown token -> 401 invalid_token "The access token is invalid or has expired"."""
    bad = {
        "random": "kfUnknownToken0123456789abcdefgh",
        "issuer-jwt": tokens.access_token("default"),
        "truncated": issue(proxy, kf_profile)[:-1],
    }[kind]
    assert_invalid(proxy.request(ROUTE, token=bad), upstream)


@pytest.mark.requirement("RFC6750-3-challenge-syntax", "KONG-OAUTH2-4.3-validation")
def test_invalid_token_challenge_follows_the_rfc6750_grammar_or_a_recorded_deviation(
    proxy: Proxy, deviations: DeviationCheck
) -> None:
    """RFC 6750 3; https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: space-separated auth-params before 3.11 (recorded deviation)."""
    result = proxy.request(ROUTE, token="kf-not-a-token")
    deviations.check_challenge_syntax(result, flow=FLOW)


# ------------------------------------------------------------------------------------------- Service binding (4.2)
@pytest.mark.requirement("KONG-OAUTH2-4.2-service-binding")
def test_accepts_a_service_bound_token_on_its_own_service(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: global_credentials false ties the token to the Service that issued it."""
    token = issue(proxy, kf_profile, route="oauth2-service")
    assert_proxied(proxy.request("oauth2-service", token=token), upstream)


@pytest.mark.requirement("KONG-OAUTH2-4.2-service-binding", "RS-no-upstream-on-reject")
def test_refuses_a_token_bound_to_another_service(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: a token from another Service fails as invalid."""
    token = issue(proxy, kf_profile, route="oauth2-service")
    assert_invalid(proxy.request("oauth2-service-other", token=token), upstream)


@pytest.mark.requirement(
    "KONG-OAUTH2-4.2-service-binding", "KONG-OAUTH2-global-token-challenge", "RS-no-upstream-on-reject"
)
def test_refuses_a_global_token_on_a_plugin_without_global_credentials(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kf_stack: Stack
) -> None:
    """Kong's 25-oauth2/03-access_spec.lua@3.9.0 L4406-L4413 (regression 4232): 401 with the "global"
    description in the body and, from 3.8, the generic invalid_token challenge in WWW-Authenticate."""
    result = proxy.request("oauth2-service", token=issue(proxy, kf_profile))
    challenged = kf_stack.version >= (3, 8)
    ch = assert_refused(
        result, upstream, status=401, error="invalid_token" if challenged else None, challenge=challenged
    )
    assert result.json() == {"error": "invalid_token", "error_description": GLOBAL_ON_BOUND}
    if challenged:
        assert ch is not None and ch.params.get("error_description") == INVALID["error_description"]


# ------------------------------------------------------------------------------------------- openid-connect kong_oauth2 (1.5)
@pytest.mark.flow(KONG_OAUTH2)
@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2", "KONG-OIDC-1.9-upstream-token")
def test_kong_oauth2_accepts_an_oauth2_token_and_forwards_it(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (oauth2_tokens lookup), 1.9 (Authorization: Bearer <token> upstream)."""
    token = issue(proxy, kf_profile)
    result = proxy.request(KONG_OAUTH2, token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("Authorization") == f"Bearer {token}"


@pytest.mark.flow(KONG_OAUTH2)
@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2")
@pytest.mark.parametrize("header", ["X-Consumer-Username", "X-Consumer-Custom-ID"])
def test_kong_oauth2_maps_the_tokens_consumer(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, header: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow (maps the consumer automatically), 1.8 (X-Consumer-* of the mapped consumer)."""
    result = proxy.request(KONG_OAUTH2, token=issue(proxy, kf_profile), headers={header: "forged"})
    assert_proxied(result, upstream)
    expected = {
        "X-Consumer-Username": f"kf-oauth2-user-{kf_profile.run_id}",
        "X-Consumer-Custom-ID": f"kf-oauth2-custom-{kf_profile.run_id}",
    }[header]
    assert result.upstream_header(header) == expected


@pytest.mark.flow(KONG_OAUTH2)
@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2", "KONG-OIDC-1.7-401-body", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("kind", ["random", "issuer-jwt"])
def test_kong_oauth2_refuses_a_token_kong_did_not_issue(
    proxy: Proxy, upstream: Upstream, tokens: TokenFactory, realm: str, kind: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: unknown opaque token or a Kong Identity JWT (bearer not enabled) -> 401."""
    bad = "kfUnknownToken0123456789abcdefgh" if kind == "random" else tokens.access_token("default")
    assert_oidc_401(proxy.request(KONG_OAUTH2, token=bad), upstream, realm)


@pytest.mark.flow(KONG_OAUTH2)
@pytest.mark.requirement("KONG-OIDC-1.5-kong-oauth2-service", "RS-no-upstream-on-reject")
def test_kong_oauth2_refuses_a_token_bound_to_another_service(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, realm: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: "kong access token is for different service" -> 401."""
    token = issue(proxy, kf_profile, route="oauth2-service")
    assert_oidc_401(proxy.request(KONG_OAUTH2, token=token), upstream, realm)
