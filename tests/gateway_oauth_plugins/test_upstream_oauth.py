"""upstream-oauth against a scripted token endpoint (https://developer.konghq.com/plugins/upstream-oauth/)."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, Idp, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.base import Exit, Headers, RequestContext, UpstreamResponse
from kongformance.gateway.plugins.upstream_oauth import UpstreamOauthPlugin, cache_key

SECRET = "s3cr3t-" * 12
TOKEN = {"access_token": "up-tok-1", "token_type": "Bearer", "expires_in": 60}


def plugin(
    runtime: FakeRuntime, idp: Idp, *, oauth: dict[str, Any] | None = None, **sections: Any
) -> UpstreamOauthPlugin:
    oauth_conf = {"token_endpoint": idp.url + "/token", "client_id": "kong-client", "client_secret": SECRET}
    oauth_conf.update(oauth or {})
    return UpstreamOauthPlugin(
        plugin_entity("UpstreamOauth.json", {"oauth": oauth_conf, **sections}), runtime
    )


def access(
    runtime: FakeRuntime, p: UpstreamOauthPlugin, headers: list[tuple[str, str]] | None = None
) -> tuple[Exit | None, RequestContext]:
    ctx = make_ctx(make_request(headers=headers))
    return runtime.run(p.access(ctx)), ctx


def upstream_answers(runtime: FakeRuntime, p: UpstreamOauthPlugin, ctx: RequestContext, status: int) -> None:
    runtime.run(p.header_filter(ctx, UpstreamResponse(status, Headers(), b"")))


# -- 2.3 the token request --------------------------------------------------------------------------------


def test_posts_client_credentials_in_the_body_by_default(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: client_secret_post (default) puts client_id and client_secret in the form body."""
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp))
    [sent] = idp.calls("/token")
    assert sent.method == "POST"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.form == {
        "grant_type": "client_credentials",
        "scope": "openid",
        "client_id": "kong-client",
        "client_secret": SECRET,
    }
    assert "authorization" not in sent.headers


def test_sends_basic_credentials_with_client_secret_basic(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: Authorization: Basic base64(client_id:client_secret), raw values."""
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp, oauth={"client_secret": "a+b/c"}, client={"auth_method": "client_secret_basic"})
    access(runtime, p)
    [sent] = idp.calls("/token")
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"kong-client:a+b/c").decode()
    assert "client_id" not in sent.form and "client_secret" not in sent.form


@pytest.mark.parametrize("alg", ["HS512", "HS256"])
def test_signs_a_client_assertion_with_client_secret_jwt(runtime: FakeRuntime, idp: Idp, alg: str) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: HS-signed JWT, iss=sub=client_id, aud=token_endpoint, jti, nbf=now, exp=now+60."""
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp, client={"auth_method": "client_secret_jwt", "client_secret_jwt_alg": alg})
    access(runtime, p)
    form = idp.calls("/token")[0].form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form
    header = jwt.get_unverified_header(form["client_assertion"])
    claims = jwt.decode(
        form["client_assertion"],
        SECRET,
        algorithms=[alg],
        audience=idp.url + "/token",
        options={"verify_exp": False, "verify_nbf": False},
    )
    now = int(runtime.clock.now())
    assert header["alg"] == alg
    assert claims["iss"] == claims["sub"] == "kong-client"
    assert claims["nbf"] == now and claims["exp"] == now + 60 and claims["jti"]


def test_sends_no_client_credentials_with_auth_method_none(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: none sends no client credentials."""
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp, client={"auth_method": "none"}))
    sent = idp.calls("/token")[0]
    assert "authorization" not in sent.headers
    assert set(sent.form) == {"grant_type", "scope"}


def test_adds_post_args_headers_scopes_and_audience(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: token_post_args, token_headers, scope and audience joined by spaces."""
    idp.always("/token", body=TOKEN)
    oauth = {
        "token_post_args": {"resource": "urn:api"},
        "token_headers": {"X-Tenant": "t1"},
        "scopes": ["read", "write"],
        "audience": ["api1", "api2"],
    }
    access(runtime, plugin(runtime, idp, oauth=oauth))
    sent = idp.calls("/token")[0]
    assert sent.headers["x-tenant"] == "t1"
    assert sent.form["resource"] == "urn:api"
    assert sent.form["scope"] == "read write"
    assert sent.form["audience"] == "api1 api2"


def test_omits_scope_and_audience_when_empty(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: scope omitted for an empty list; audience omitted when empty (default)."""
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp, oauth={"scopes": []}))
    form = idp.calls("/token")[0].form
    assert "scope" not in form and "audience" not in form


def test_sends_username_and_password_for_the_password_grant(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/ and https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: grant_type=password with oauth.username/oauth.password."""
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp, oauth={"grant_type": "password", "username": "u", "password": "p"}))
    form = idp.calls("/token")[0].form
    assert form["grant_type"] == "password" and form["username"] == "u" and form["password"] == "p"


# -- 2.5 injection ----------------------------------------------------------------------------------------


def test_injects_the_token_with_the_idps_token_type(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: `<header>: <token_type> <token>`, replacing the client's header."""
    idp.always("/token", body=TOKEN)
    exit_, ctx = access(runtime, plugin(runtime, idp), headers=[("Authorization", "Bearer client-token")])
    assert exit_ is None
    assert ctx.request.headers.get_all("Authorization") == ["Bearer up-tok-1"]


def test_uses_a_lowercase_token_type_verbatim(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: token_type used verbatim, so `bearer` stays lowercase."""
    idp.always("/token", body={"access_token": "t", "token_type": "bearer"})
    _, ctx = access(runtime, plugin(runtime, idp))
    assert ctx.request.headers.get("Authorization") == "bearer t"


def test_defaults_to_bearer_without_token_type(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: `Bearer` when the IdP sends no token_type."""
    idp.always("/token", body={"access_token": "t"})
    _, ctx = access(runtime, plugin(runtime, idp))
    assert ctx.request.headers.get("Authorization") == "Bearer t"


def test_uses_a_custom_header_and_leaves_the_clients_authorization(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: upstream_access_token_header_name; the client's Authorization passes untouched."""
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp, behavior={"upstream_access_token_header_name": "X-Upstream-Token"})
    _, ctx = access(runtime, p, headers=[("Authorization", "Bearer mine")])
    assert ctx.request.headers.get("X-Upstream-Token") == "Bearer up-tok-1"
    assert ctx.request.headers.get("Authorization") == "Bearer mine"


# -- 2.5 caching ------------------------------------------------------------------------------------------


def test_reuses_the_token_until_expires_in_minus_eagerly_expire(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: TTL = max(0.001, expires_in - eagerly_expire)."""
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp)
    access(runtime, p)
    runtime.clock.advance(54.5)
    access(runtime, p)
    assert len(idp.calls("/token")) == 1
    runtime.clock.advance(1)
    access(runtime, p)
    assert len(idp.calls("/token")) == 2


def test_uses_default_ttl_without_expires_in(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: no expires_in -> cache.default_ttl."""
    idp.always("/token", body={"access_token": "t"})
    p = plugin(runtime, idp, cache={"default_ttl": 100})
    access(runtime, p)
    runtime.clock.advance(99)
    access(runtime, p)
    assert len(idp.calls("/token")) == 1
    runtime.clock.advance(2)
    access(runtime, p)
    assert len(idp.calls("/token")) == 2


def test_a_short_lived_token_is_refetched_at_once(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: expires_in <= eagerly_expire gives a 0.001 s TTL."""
    idp.always("/token", body={"access_token": "t", "expires_in": 3})
    p = plugin(runtime, idp)
    access(runtime, p)
    runtime.clock.advance(0.01)
    access(runtime, p)
    assert len(idp.calls("/token")) == 2


def test_identical_oauth_records_share_a_token(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: key = sha256 of the canonical oauth record, so identical records share."""
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp, oauth={"scopes": ["a", "b"]}))
    access(
        runtime,
        plugin(
            runtime, idp, oauth={"scopes": ["b", "a"]}, behavior={"upstream_access_token_header_name": "X-T"}
        ),
    )
    assert len(idp.calls("/token")) == 1
    access(runtime, plugin(runtime, idp, oauth={"scopes": ["c"]}))
    assert len(idp.calls("/token")) == 2


def test_cache_key_has_the_upstream_oauth_prefix() -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: `upstream-oauth:` + sha256 hex."""
    key = cache_key({"token_endpoint": "https://idp/token", "scopes": ["openid"]})
    assert key.startswith("upstream-oauth:") and len(key) == len("upstream-oauth:") + 64


def test_purges_the_token_on_a_configured_upstream_status(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: purge in header_filter on 401; the next request fetches a new token."""
    idp.answer("/token", body={"access_token": "first", "expires_in": 3600})
    idp.always("/token", body={"access_token": "second", "expires_in": 3600})
    p = plugin(runtime, idp)
    _, ctx = access(runtime, p)
    upstream_answers(runtime, p, ctx, 200)
    _, ctx = access(runtime, p)
    assert ctx.request.headers.get("Authorization") == "Bearer first"
    upstream_answers(runtime, p, ctx, 401)
    _, ctx = access(runtime, p)
    assert ctx.request.headers.get("Authorization") == "Bearer second"
    assert len(idp.calls("/token")) == 2


def test_an_empty_purge_list_disables_purging(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching: an empty purge_token_on_upstream_status_codes disables purging."""
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp, behavior={"purge_token_on_upstream_status_codes": []})
    _, ctx = access(runtime, p)
    upstream_answers(runtime, p, ctx, 401)
    access(runtime, p)
    assert len(idp.calls("/token")) == 1


# -- 2.4 IdP failure --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,body",
    [
        (400, {"error": "invalid_client"}),
        (500, "boom"),
        (200, "not json"),
        (200, {"token_type": "Bearer"}),
        (200, {"access_token": ""}),
        (200, ["access_token"]),
    ],
)
def test_answers_502_with_the_default_template_on_idp_failure(
    runtime: FakeRuntime, idp: Idp, status: int, body: Any
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods and https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: status >= 400, bad JSON or no access_token -> 502, template, body not passed on."""
    idp.answer("/token", status=status, body=body)
    exit_, _ = access(runtime, plugin(runtime, idp))
    assert exit_ is not None and exit_.status == 502
    assert exit_.body == '{ "code": "502", "message": "Failed to authenticate request to upstream" }'
    assert exit_.headers == {"Content-Type": "application/json; charset=utf-8"}


def test_answers_the_configured_status_message_and_content_type(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: {{status}} and {{message}} substituted; the configured content type is sent."""
    behavior = {
        "idp_error_response_status_code": 503,
        "idp_error_response_message": "no token",
        "idp_error_response_body_template": "<e s='{{status}}'>{{message}}</e>",
        "idp_error_response_content_type": "application/xml",
    }
    idp.answer("/token", status=401, body="secret idp detail")
    exit_, _ = access(runtime, plugin(runtime, idp, behavior=behavior))
    assert exit_ is not None and exit_.status == 503
    assert exit_.body == "<e s='503'>no token</e>"
    assert exit_.headers == {"Content-Type": "application/xml"}


def test_an_empty_template_and_content_type_give_an_empty_body_and_no_header(
    runtime: FakeRuntime, idp: Idp
) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code: empty template -> empty body; empty content type -> no header."""
    behavior = {"idp_error_response_body_template": "", "idp_error_response_content_type": ""}
    idp.answer("/token", status=500, body="x")
    exit_, _ = access(runtime, plugin(runtime, idp, behavior=behavior))
    assert exit_ is not None and exit_.body == "" and exit_.headers == {}


def test_answers_502_when_the_token_endpoint_is_unreachable(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods: a connection error counts as an IdP failure."""
    exit_, _ = access(runtime, plugin(runtime, idp, oauth={"token_endpoint": "http://127.0.0.1:9/token"}))
    assert exit_ is not None and exit_.status == 502


def test_does_not_cache_a_failure(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code and https://developer.konghq.com/plugins/upstream-oauth/#caching: after a failure the next request asks the IdP again."""
    idp.answer("/token", status=500, body="x")
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp)
    assert access(runtime, p)[0] is not None
    assert access(runtime, p)[0] is None


# -- schema checks ----------------------------------------------------------------------------------------


def test_requires_client_credentials_unless_auth_method_is_none() -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/: "client_id and client_secret must be provided for authentication"."""
    message = {"@entity": ["client_id and client_secret must be provided for authentication"]}
    base = {"token_endpoint": "https://idp/token"}
    assert (
        UpstreamOauthPlugin.entity_checks({"oauth": base, "client": {"auth_method": "client_secret_post"}})
        == message
    )
    assert UpstreamOauthPlugin.entity_checks({"oauth": {**base, "client_id": "a"}, "client": {}}) == message
    assert UpstreamOauthPlugin.entity_checks({"oauth": base, "client": {"auth_method": "none"}}) == {}
    full = {**base, "client_id": "a", "client_secret": "b"}
    assert (
        UpstreamOauthPlugin.entity_checks({"oauth": full, "client": {"auth_method": "client_secret_jwt"}})
        == {}
    )


# -- defects ----------------------------------------------------------------------------------------------


def test_defect_never_purge_keeps_the_token_after_401(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching (purge)."""
    runtime.defects.enable("upstream_oauth_never_purge")
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp)
    _, ctx = access(runtime, p)
    upstream_answers(runtime, p, ctx, 401)
    access(runtime, p)
    assert len(idp.calls("/token")) == 1


def test_defect_ignore_eagerly_expire_keeps_the_token_too_long(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching (TTL = expires_in - eagerly_expire)."""
    runtime.defects.enable("upstream_oauth_ignore_eagerly_expire")
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp)
    access(runtime, p)
    runtime.clock.advance(57)
    access(runtime, p)
    assert len(idp.calls("/token")) == 1


def test_defect_no_cache_fetches_every_time(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching (cache)."""
    runtime.defects.enable("upstream_oauth_no_cache")
    idp.always("/token", body=TOKEN)
    p = plugin(runtime, idp)
    access(runtime, p)
    access(runtime, p)
    assert len(idp.calls("/token")) == 2


def test_defect_post_when_basic_sends_credentials_in_the_body(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#authentication-methods (client_secret_basic)."""
    runtime.defects.enable("upstream_oauth_post_when_basic")
    idp.always("/token", body=TOKEN)
    access(runtime, plugin(runtime, idp, client={"auth_method": "client_secret_basic"}))
    sent = idp.calls("/token")[0]
    assert "authorization" not in sent.headers and sent.form["client_secret"] == SECRET


def test_defect_leak_idp_error_passes_the_idp_body_on(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/reference/#schema--config-behavior-idp-error-response-status-code (the IdP's error body is not passed on)."""
    runtime.defects.enable("upstream_oauth_leak_idp_error")
    idp.answer("/token", status=401, body='{"error":"invalid_client"}')
    exit_, _ = access(runtime, plugin(runtime, idp))
    assert exit_ is not None and exit_.status == 401 and b"invalid_client" in exit_.body


def test_defect_append_token_header_keeps_the_clients_header(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/upstream-oauth/#caching (set_header replaces the client's header)."""
    runtime.defects.enable("upstream_oauth_append_token_header")
    idp.always("/token", body=TOKEN)
    _, ctx = access(runtime, plugin(runtime, idp), headers=[("Authorization", "Bearer client")])
    assert ctx.request.headers.get_all("Authorization") == ["Bearer client", "Bearer up-tok-1"]
