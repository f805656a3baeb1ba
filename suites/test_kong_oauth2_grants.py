"""Kong's OSS oauth2 plugin as users run it: ``/oauth2/authorize`` (authorization code with PKCE, implicit),
the password and refresh grants, provision_key, and Service binding of global plugins.

Expected behaviour from Kong's own specs at 3.9.0 (spec/03-plugins/25-oauth2/01-schema_spec.lua,
03-access_spec.lua; cited per test) and RFC 6749 4.1-4.2 / RFC 7636 4.4-4.6. Routes ``oauth2-grants``
(authorization code, implicit and password grants; scopes read, write), ``oauth2-grants-narrow`` (scope read
only) and ``oauth2-grants-reuse`` (``reuse_refresh_token``) are global oauth2 plugins with a known
provision_key; the profile's oauth2 consumer holds an app credential with one redirect URI. Needs a
database: on a DB-less target the routes are absent and the tests skipped.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_proxied, assert_refused

from kongformance.profile import ClientCreds, ProfileHandles
from kongformance.profile_credentials import OAUTH2_REDIRECT_URI, oauth2_app, oauth2_provision_key
from kongformance.run_checks import lacks_reason

GRANTS = "oauth2-grants"
NARROW = "oauth2-grants-narrow"
REUSE = "oauth2-grants-reuse"
USER = "kf-resource-owner"
INVALID = {"error": "invalid_token", "error_description": "The access token is invalid or has expired"}
INVALID_CODE = {"error": "invalid_request", "error_description": "Invalid code"}
GLOBAL_ON_BOUND = (
    "The access token is global, but the current plugin is configured without 'global_credentials'"
)


def app(handles: ProfileHandles) -> ClientCreds:
    creds = oauth2_app(handles)
    if creds is None:
        pytest.skip(lacks_reason(["db"], "the oauth2 plugin's credentials need a database"))
    return creds


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as RFC 7636 4.1-4.2 define them."""
    verifier = secrets.token_urlsafe(48)[:64]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize(proxy: Proxy, handles: ProfileHandles, route: str = GRANTS, **form: str) -> ProxyResult:
    """POST <route>/oauth2/authorize as the app's login page would (provision_key + authenticated_userid)."""
    data = {
        "provision_key": oauth2_provision_key(handles, route),
        "client_id": app(handles).id,
        "authenticated_userid": USER,
        "response_type": "code",
        **form,
    }
    data = {k: v for k, v in data.items() if v != ""}
    return proxy.request(route, "POST", data=data, scheme="https", path_suffix="/oauth2/authorize")


def redirect_params(result: ProxyResult, *, fragment: bool = False) -> dict[str, str]:
    """The parameters Kong appended to the registered redirect URI (query, or fragment for implicit)."""
    body = result.json()
    assert set(body) == {"redirect_uri"}, body
    parts = urlsplit(body["redirect_uri"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == OAUTH2_REDIRECT_URI
    return {k: v[0] for k, v in parse_qs(parts.fragment if fragment else parts.query).items()}


def code_for(proxy: Proxy, handles: ProfileHandles, **form: str) -> str:
    result = authorize(proxy, handles, **form)
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    return redirect_params(result)["code"]


def token(proxy: Proxy, handles: ProfileHandles, route: str = GRANTS, **form: str) -> ProxyResult:
    """POST <route>/oauth2/token with the app credential in the body."""
    creds = app(handles)
    data = {"client_id": creds.id, "client_secret": creds.secret, **form}
    return proxy.request(route, "POST", data=data, scheme="https", path_suffix="/oauth2/token")


def password_grant(proxy: Proxy, handles: ProfileHandles, route: str, scope: str) -> dict[str, Any]:
    result = token(
        proxy,
        handles,
        route,
        grant_type="password",
        provision_key=oauth2_provision_key(handles, route),
        authenticated_userid=USER,
        scope=scope,
    )
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    body: dict[str, Any] = result.json()
    return body


def refresh(proxy: Proxy, handles: ProfileHandles, route: str, refresh_token: str) -> ProxyResult:
    return token(proxy, handles, route, grant_type="refresh_token", refresh_token=refresh_token)


def assert_token_error(result: ProxyResult, upstream: Upstream, expected: dict[str, str]) -> None:
    assert result.status == 400, f"{result.status}: {result.response.text[:200]!r}"
    assert result.json() == expected
    assert not upstream.seen(result.probe)


# ------------------------------------------------------------------ authorization code + PKCE (RFC 6749 4.1, RFC 7636)
@pytest.mark.requirement("KONG-OAUTH2-authorize", "RFC6749-4.1.2-code-response")
def test_authorize_redirects_with_a_code_and_the_state(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """25-oauth2/03-access_spec.lua@3.9.0 L975 ("returns success with a state"): 200 {redirect_uri:
    <registered>?code=<32 chars>&state=<state>}; RFC 6749 4.1.2 (code and state on the redirect)."""
    _, challenge = pkce_pair()
    result = authorize(proxy, kf_profile, code_challenge=challenge, state="kf-state")
    assert result.status == 200, result.response.text[:200]
    params = redirect_params(result)
    assert set(params) == {"code", "state"} and params["state"] == "kf-state"
    assert len(params["code"]) == 32
    assert not upstream.seen(result.probe)


@pytest.mark.requirement(
    "RFC6749-4.1.3-code-exchange", "RFC7636-4.6-verifier-match", "KONG-OAUTH2-4.3-headers"
)
def test_exchanges_a_pkce_code_for_tokens_of_the_resource_owner(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L2111, L2185: 200 {access_token, token_type bearer, expires_in, refresh_token};
    the token carries the authorized user and scope upstream (X-Authenticated-UserId, -Scope)."""
    verifier, challenge = pkce_pair()
    code = code_for(proxy, kf_profile, code_challenge=challenge, scope="read write")
    result = token(proxy, kf_profile, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert result.status == 200, result.response.text[:200]
    body = result.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer" and len(body["refresh_token"]) == 32
    proxied = proxy.request(GRANTS, token=body["access_token"])
    assert_proxied(proxied, upstream)
    assert proxied.upstream_header("X-Authenticated-UserId") == USER
    assert proxied.upstream_header("X-Authenticated-Scope") == "read write"


@pytest.mark.requirement("RFC7636-4.6-verifier-match")
def test_refuses_a_code_verifier_that_does_not_match_the_challenge(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """RFC 7636 4.6; 03-access_spec.lua@3.9.0 L2693: 400 {"error":"invalid_grant","error_description":"Invalid code"}."""
    _, challenge = pkce_pair()
    other, _ = pkce_pair()
    code = code_for(proxy, kf_profile, code_challenge=challenge)
    result = token(proxy, kf_profile, grant_type="authorization_code", code=code, code_verifier=other)
    assert_token_error(result, upstream, {"error": "invalid_grant", "error_description": "Invalid code"})


@pytest.mark.requirement("RFC7636-4.5-verifier-required")
@pytest.mark.parametrize("verifier", ["", "short", "x" * 129])
def test_refuses_a_missing_or_badly_sized_code_verifier(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, verifier: str
) -> None:
    """RFC 7636 4.1 (43-128 characters), 4.5; 03-access_spec.lua@3.9.0 L2589, L2609 (missing), L2568 (long)."""
    _, challenge = pkce_pair()
    code = code_for(proxy, kf_profile, code_challenge=challenge)
    form = {"code_verifier": verifier} if verifier else {}
    result = token(proxy, kf_profile, grant_type="authorization_code", code=code, **form)
    description = (
        "code_verifier must be between 43 and 128 characters"
        if verifier
        else "code_verifier is required for PKCE authorization requests"
    )
    assert_token_error(result, upstream, {"error": "invalid_request", "error_description": description})


@pytest.mark.requirement("RFC6749-4.1.2-code-single-use")
def test_refuses_an_authorization_code_used_twice(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """RFC 6749 4.1.2 (single use); 03-access_spec.lua@3.9.0 L2217: the second exchange is 400 "Invalid code"."""
    verifier, challenge = pkce_pair()
    code = code_for(proxy, kf_profile, code_challenge=challenge)
    first = token(proxy, kf_profile, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert first.status == 200, first.response.text[:200]
    again = token(proxy, kf_profile, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert_token_error(again, upstream, INVALID_CODE)


@pytest.mark.requirement("KONG-OAUTH2-pkce-s256-only")
def test_refuses_the_plain_code_challenge_method_on_the_redirect(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """RFC 7636 4.4.1 (a server may support S256 only); 03-access_spec.lua@3.9.0 L1078: 400, the error goes back
    on the registered redirect URI with the state."""
    result = authorize(proxy, kf_profile, code_challenge="kf" * 22, code_challenge_method="plain", state="s1")
    assert result.status == 400
    assert redirect_params(result) == {
        "error": "invalid_request",
        "error_description": "code_challenge_method is not supported, must be S256",
        "state": "s1",
    }
    assert not upstream.seen(result.probe)


@pytest.mark.requirement("KONG-OAUTH2-redirect-uri-registered")
def test_authorize_refuses_a_redirect_uri_the_application_did_not_register(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L789-L791 (redirect_uri "http://hello.test/" not registered): 400, and
    the error goes to the registered redirect URI, not to the one the request named."""
    _, challenge = pkce_pair()
    result = authorize(
        proxy, kf_profile, code_challenge=challenge, redirect_uri="https://attacker.example/kf/callback"
    )
    assert result.status == 400, f"{result.status}: {result.response.text[:200]!r}"
    description = (
        "Invalid%20redirect_uri%20that%20does%20not%20match%20with%20any%20redirect_uri%20created%20with%20"
        "the%20application"
    )
    expected = f"{OAUTH2_REDIRECT_URI}?error=invalid_request&error_description={description}"
    assert result.json() == {"redirect_uri": expected}
    assert not upstream.seen(result.probe)


@pytest.mark.requirement("KONG-OAUTH2-authorize")
def test_authorize_refuses_a_wrong_provision_key_without_redirecting(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 (authorize, "invalid_provision_key"): 400 JSON, no redirect_uri."""
    result = authorize(proxy, kf_profile, provision_key="kf-not-the-key")
    assert_token_error(
        result, upstream, {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
    )


@pytest.mark.requirement("RFC6749-4.2.2-implicit-fragment", "KONG-OAUTH2-authorize")
def test_implicit_grant_returns_the_token_in_the_fragment_without_refresh_token(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """RFC 6749 4.2.2 (fragment; no refresh token); 03-access_spec.lua@3.9.0 L1315-L1327."""
    result = authorize(proxy, kf_profile, response_type="token", scope="read")
    assert result.status == 200, result.response.text[:200]
    params = redirect_params(result, fragment=True)
    assert set(params) == {"access_token", "expires_in", "token_type"}
    assert params["token_type"] == "bearer" and len(params["access_token"]) == 32
    assert_proxied(proxy.request(GRANTS, token=params["access_token"]), upstream)


# ------------------------------------------------------------------ refresh grant
@pytest.mark.requirement("KONG-OAUTH2-refresh-scope-mismatch")
def test_refresh_at_a_plugin_without_the_tokens_scope_is_a_scope_mismatch(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L3004-L3072: 400 {"error":"invalid_scope","error_description":"Scope mismatch"}."""
    issued = password_grant(proxy, kf_profile, GRANTS, "write")
    result = refresh(proxy, kf_profile, NARROW, issued["refresh_token"])
    assert_token_error(result, upstream, {"error": "invalid_scope", "error_description": "Scope mismatch"})


@pytest.mark.requirement("KONG-OAUTH2-refresh-scope-mismatch")
def test_refresh_at_a_plugin_with_the_tokens_scope_rotates_the_tokens(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L3074 (subset scope succeeds), L3773 (a new refresh token; the old one is gone)."""
    issued = password_grant(proxy, kf_profile, GRANTS, "read")
    result = refresh(proxy, kf_profile, NARROW, issued["refresh_token"])
    assert result.status == 200, result.response.text[:200]
    assert result.json()["refresh_token"] != issued["refresh_token"]
    again = refresh(proxy, kf_profile, NARROW, issued["refresh_token"])
    assert_token_error(
        again, upstream, {"error": "invalid_request", "error_description": "Invalid refresh_token"}
    )


@pytest.mark.requirement("KONG-OAUTH2-reuse-refresh-token")
def test_reuse_refresh_token_keeps_the_refresh_token_and_replaces_the_access_token(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L3779-L3786: the refreshed row keeps its refresh token; the new access token
    works, the old one no longer does."""
    issued = password_grant(proxy, kf_profile, REUSE, "read")
    result = refresh(proxy, kf_profile, REUSE, issued["refresh_token"])
    assert result.status == 200, result.response.text[:200]
    renewed = result.json()
    assert renewed["refresh_token"] == issued["refresh_token"]
    assert renewed["access_token"] != issued["access_token"]
    assert_proxied(proxy.request(REUSE, token=renewed["access_token"]), upstream)
    stale = proxy.request(REUSE, token=issued["access_token"])
    assert_refused(stale, upstream, status=401, error="invalid_token")
    assert stale.json() == INVALID


# ------------------------------------------------------------------ provision_key and Service binding
@pytest.mark.requirement("KONG-OAUTH2-provision-key-generated")
def test_authenticated_userid_needs_the_generated_provision_key(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """01-schema_spec.lua@3.9.0 L35-L41 (a 32-character key is generated when none is given); access.lua@3.9.0
    L680-L686: client_credentials with authenticated_userid and no provision_key -> 400 invalid_provision_key.
    Route ``oauth2``'s plugin is created without a provision_key."""
    cred = kf_profile.oauth2
    if cred is None:
        pytest.skip(lacks_reason(["db"], "the oauth2 plugin's credentials need a database"))
    data = {
        "grant_type": "client_credentials",
        "client_id": cred.id,
        "client_secret": cred.secret,
        "authenticated_userid": USER,
    }
    result = proxy.request("oauth2", "POST", data=data, scheme="https", path_suffix="/oauth2/token")
    assert_token_error(
        result, upstream, {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
    )


@pytest.mark.requirement("KONG-OAUTH2-global-binding", "RS-no-upstream-on-reject")
def test_a_global_plugin_refuses_a_token_bound_to_another_service(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """03-access_spec.lua@3.9.0 L3455-L3467 ("not sharing global credentials 2"): a token issued by a plugin
    without global_credentials is refused by a global_credentials plugin on another Service: 401 invalid_token."""
    cred = kf_profile.oauth2
    if cred is None:
        pytest.skip(lacks_reason(["db"], "the oauth2 plugin's credentials need a database"))
    data = {"grant_type": "client_credentials", "client_id": cred.id, "client_secret": cred.secret}
    issued = proxy.request("oauth2-service", "POST", data=data, scheme="https", path_suffix="/oauth2/token")
    assert issued.status == 200, issued.response.text[:200]
    result = proxy.request("oauth2", token=issued.json()["access_token"])
    ch = assert_refused(result, upstream, status=401, error="invalid_token")
    assert result.json() == INVALID
    assert ch is not None and ch.params.get("error_description") == INVALID["error_description"]
