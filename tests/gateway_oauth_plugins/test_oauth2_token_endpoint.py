"""The OSS oauth2 plugin's token endpoint (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.base import Exit
from kongformance.gateway.plugins.oauth2 import Oauth2Plugin, is_token_endpoint

PROVISION_KEY = "pk-123"


def plugin(runtime: FakeRuntime, **config: Any) -> Oauth2Plugin:
    base = {"enable_client_credentials": True, "provision_key": PROVISION_KEY}
    return Oauth2Plugin(plugin_entity("Oauth2.json", {**base, **config}), runtime)


@pytest.fixture
def client(runtime: FakeRuntime) -> dict[str, Any]:
    consumer = runtime.add_consumer(username="app-owner")
    return runtime.add_credential(consumer, client_id="cid", client_secret="csecret")


def token_request(
    runtime: FakeRuntime,
    p: Oauth2Plugin,
    form: dict[str, str] | None = None,
    *,
    path: str = "/api/oauth2/token",
    **kwargs: Any,
) -> Exit:
    kwargs.setdefault("method", "POST")
    request = make_request(path, form=form, **kwargs)
    exit_ = runtime.run(p.access(make_ctx(request)))
    assert exit_ is not None
    return exit_


CC = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"}


def test_issues_a_client_credentials_token(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: 200 {access_token (32 chars), token_type bearer, expires_in 7200}, no-store headers."""
    exit_ = token_request(runtime, plugin(runtime), CC)
    assert exit_.status == 200
    assert set(exit_.body) == {"access_token", "token_type", "expires_in"}
    assert len(exit_.body["access_token"]) == 32
    assert exit_.body["token_type"] == "bearer" and exit_.body["expires_in"] == 7200
    assert exit_.headers["Cache-Control"] == "no-store" and exit_.headers["Pragma"] == "no-cache"
    stored = runtime.oauth2_store().find(exit_.body["access_token"])
    assert stored is not None and stored.service_id == "svc-1" and stored.client_id == "cid"


@pytest.mark.parametrize("path", ["/oauth2/token", "/a/b/oauth2/token", "/x/oauth2/token/"])
def test_answers_at_any_path_ending_in_oauth2_token(path: str) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: any path ending with /oauth2/token (optionally /), whatever the prefix."""
    assert is_token_endpoint(path)
    assert not is_token_endpoint("/oauth2/token/x") and not is_token_endpoint("/oauth2/tokens")


def test_refuses_other_methods_with_405(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: non-POST -> 405 invalid_method with a Bearer challenge (3.11+ commas)."""
    exit_ = token_request(runtime, plugin(runtime), method="GET")
    description = "The HTTP method GET is invalid for the token endpoint"
    assert exit_.status == 405
    assert exit_.body == {"error": "invalid_method", "error_description": description}
    assert (
        exit_.headers["WWW-Authenticate"]
        == f'Bearer error="invalid_method", error_description="{description}"'
    )
    with_realm = token_request(runtime, plugin(runtime, realm="kong"), method="PUT")
    assert with_realm.headers["WWW-Authenticate"].startswith('Bearer realm="kong", error="invalid_method"')


def test_requires_https(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: plain HTTP -> 400 access_denied "You must use HTTPS"."""
    exit_ = token_request(runtime, plugin(runtime), CC, scheme="http")
    assert exit_.status == 400
    assert exit_.body == {"error": "access_denied", "error_description": "You must use HTTPS"}


def test_accepts_terminated_https_only_from_a_trusted_ip(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: accept_http_if_already_terminated needs trusted_ips and X-Forwarded-Proto: https."""
    p = plugin(runtime, accept_http_if_already_terminated=True)
    forwarded = [("X-Forwarded-Proto", "https")]
    assert token_request(runtime, p, CC, scheme="http", headers=forwarded).status == 400  # nothing trusted
    runtime.trusted_ips = ["127.0.0.0/8"]
    assert token_request(runtime, p, CC, scheme="http", headers=forwarded).status == 200
    assert token_request(runtime, p, CC, scheme="http").status == 400
    assert token_request(runtime, p, CC, scheme="http", headers=forwarded, client_ip="10.0.0.1").status == 400
    twice = token_request(runtime, p, CC, scheme="http", headers=forwarded * 2)
    assert twice.body["error_description"] == "Only one X-Forwarded-Proto header allowed"
    off = plugin(runtime)
    assert token_request(runtime, off, CC, scheme="http", headers=forwarded).status == 400


def test_accepts_basic_client_authentication(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: client credentials from `Authorization: Basic` (Basic or basic)."""
    for scheme in ("Basic", "basic"):
        basic = f"{scheme} " + base64.b64encode(b"cid:csecret").decode()
        exit_ = token_request(
            runtime, plugin(runtime), {"grant_type": "client_credentials"}, headers=[("Authorization", basic)]
        )
        assert exit_.status == 200


def test_answers_401_with_basic_challenge_for_a_wrong_basic_secret(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: invalid_client with 401 + `Basic realm="OAuth2.0"` when credentials came in Basic."""
    basic = "Basic " + base64.b64encode(b"cid:wrong").decode()
    exit_ = token_request(
        runtime, plugin(runtime), {"grant_type": "client_credentials"}, headers=[("Authorization", basic)]
    )
    assert exit_.status == 401
    assert exit_.body == {"error": "invalid_client", "error_description": "Invalid client authentication"}
    assert exit_.headers["WWW-Authenticate"] == 'Basic realm="OAuth2.0"'


def test_answers_400_without_challenge_for_a_wrong_body_secret(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://developer.konghq.com/gateway/authentication/ open question 6: body credentials -> invalid_client with 400 and no WWW-Authenticate."""
    exit_ = token_request(runtime, plugin(runtime), {**CC, "client_secret": "wrong"})
    assert exit_.status == 400 and exit_.body["error"] == "invalid_client"
    assert "WWW-Authenticate" not in exit_.headers


def test_answers_400_for_an_unknown_client(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: an unknown client_id -> invalid_client."""
    exit_ = token_request(runtime, plugin(runtime), {**CC, "client_id": "nobody"})
    assert exit_.status == 400 and exit_.body["error"] == "invalid_client"


def test_reads_parameters_from_json_and_query(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: parameters from the query string plus a form or JSON body."""
    exit_ = token_request(runtime, plugin(runtime), body=dict(CC))
    assert exit_.status == 200
    exit_ = token_request(runtime, plugin(runtime), query=list(CC.items()))
    assert exit_.status == 200


def test_refuses_a_grant_type_that_is_not_enabled(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: unsupported_grant_type / "Invalid grant_type"."""
    p = plugin(runtime, enable_client_credentials=False, enable_password_grant=True)
    exit_ = token_request(runtime, p, CC)
    assert exit_.status == 400
    assert exit_.body == {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}


def test_grants_requested_scopes_from_config(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: each requested scope must be in config.scopes; stored space-joined."""
    p = plugin(runtime, scopes=["email", "profile"])
    exit_ = token_request(runtime, p, {**CC, "scope": "email profile"})
    token = runtime.oauth2_store().find(exit_.body["access_token"])
    assert token is not None and token.scope == "email profile"
    bad = token_request(runtime, p, {**CC, "scope": "email admin"})
    assert bad.status == 400
    assert bad.body == {"error": "invalid_scope", "error_description": '"admin" is an invalid scope'}


def test_requires_a_scope_when_mandatory(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: mandatory_scope -> "You must specify a scope"; a non-string scope is refused."""
    p = plugin(runtime, scopes=["email"], mandatory_scope=True)
    exit_ = token_request(runtime, p, CC)
    assert exit_.body == {"error": "invalid_scope", "error_description": "You must specify a scope"}
    exit_ = token_request(runtime, p, body={**CC, "scope": ["email"]})
    assert exit_.body == {"error": "invalid_scope", "error_description": "scope must be a string"}


def test_needs_the_provision_key_to_set_authenticated_userid(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: authenticated_userid with client_credentials requires the provision_key."""
    p = plugin(runtime)
    exit_ = token_request(runtime, p, {**CC, "authenticated_userid": "u1"})
    assert exit_.body == {"error": "invalid_provision_key", "error_description": "Invalid provision_key"}
    exit_ = token_request(runtime, p, {**CC, "authenticated_userid": "u1", "provision_key": PROVISION_KEY})
    token = runtime.oauth2_store().find(exit_.body["access_token"])
    assert token is not None and token.authenticated_userid == "u1"


def test_echoes_state_and_omits_expires_in_for_never_expiring_tokens(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: state echoed; expires_in omitted when token_expiration is 0."""
    exit_ = token_request(runtime, plugin(runtime, token_expiration=0), {**CC, "state": "xyz"})
    assert exit_.body["state"] == "xyz" and "expires_in" not in exit_.body


def test_refuses_a_secret_from_a_public_client(runtime: FakeRuntime) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: "client_secret is disallowed for public clients"."""
    consumer = runtime.add_consumer(username="spa")
    runtime.add_credential(consumer, client_id="pub", client_secret="s", client_type="public")
    exit_ = token_request(runtime, plugin(runtime), {**CC, "client_id": "pub", "client_secret": "s"})
    assert exit_.body == {
        "error": "invalid_request",
        "error_description": "client_secret is disallowed for public clients",
    }


def test_verifies_a_hashed_secret(runtime: FakeRuntime) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: hash_secret stores a PBKDF2 hash; the plain secret still authenticates."""
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha512", b"plain", salt, 10000, 32)

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    stored = f"$pbkdf2-sha512$i=10000,l=32${b64(salt)}${b64(digest)}"
    consumer = runtime.add_consumer(username="h")
    runtime.add_credential(consumer, client_id="hashed", client_secret=stored, hash_secret=True)
    good = token_request(runtime, plugin(runtime), {**CC, "client_id": "hashed", "client_secret": "plain"})
    bad = token_request(runtime, plugin(runtime), {**CC, "client_id": "hashed", "client_secret": stored})
    assert good.status == 200 and bad.status == 400


def test_password_grant_issues_a_refresh_token_that_rotates(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: password grant needs provision_key and authenticated_userid; adds refresh_token."""
    p = plugin(runtime, enable_password_grant=True)
    base = {"grant_type": "password", "client_id": "cid", "client_secret": "csecret"}
    assert token_request(runtime, p, base).body["error"] == "invalid_provision_key"
    missing = token_request(runtime, p, {**base, "provision_key": PROVISION_KEY})
    assert missing.body == {
        "error": "invalid_authenticated_userid",
        "error_description": "Missing authenticated_userid parameter",
    }
    issued = token_request(runtime, p, {**base, "provision_key": PROVISION_KEY, "authenticated_userid": "u"})
    assert issued.status == 200 and "refresh_token" in issued.body
    refreshed = token_request(
        runtime,
        p,
        {
            "grant_type": "refresh_token",
            "client_id": "cid",
            "client_secret": "csecret",
            "refresh_token": issued.body["refresh_token"],
        },
    )
    assert refreshed.status == 200 and refreshed.body["access_token"] != issued.body["access_token"]
    assert runtime.oauth2_store().find(issued.body["access_token"]) is None
    again = token_request(
        runtime,
        p,
        {
            "grant_type": "refresh_token",
            "client_id": "cid",
            "client_secret": "csecret",
            "refresh_token": issued.body["refresh_token"],
        },
    )
    assert again.body == {"error": "invalid_request", "error_description": "Invalid refresh_token"}


def test_client_credentials_tokens_have_no_refresh_token(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: no refresh_token for client_credentials."""
    assert "refresh_token" not in token_request(runtime, plugin(runtime), CC).body


def test_entity_checks_require_a_flow_and_scopes_for_mandatory_scope() -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: "at least one of these fields must be true"; mandatory_scope needs scopes."""
    flows = (
        "enable_authorization_code, enable_implicit_grant, enable_client_credentials, enable_password_grant"
    )
    assert Oauth2Plugin.entity_checks({}) == {"config": f"at least one of these fields must be true: {flows}"}
    assert Oauth2Plugin.entity_checks({"enable_client_credentials": True, "mandatory_scope": True}) == {
        "config": {"scopes": "required field missing"}
    }
    assert (
        Oauth2Plugin.entity_checks({"enable_password_grant": True, "mandatory_scope": True, "scopes": ["a"]})
        == {}
    )


def test_defect_token_endpoint_accepts_http(runtime: FakeRuntime, client: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (HTTPS only)."""
    runtime.defects.enable("oauth2_token_endpoint_accepts_http")
    assert token_request(runtime, plugin(runtime), CC, scheme="http").status == 200


def test_defect_ignore_scope_check_grants_unknown_scopes(
    runtime: FakeRuntime, client: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (scope)."""
    runtime.defects.enable("oauth2_ignore_scope_check")
    exit_ = token_request(runtime, plugin(runtime, scopes=["email"]), {**CC, "scope": "admin"})
    assert exit_.status == 200
