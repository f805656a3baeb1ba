"""oauth2-introspection against a scripted introspection endpoint (https://developer.konghq.com/plugins/oauth2-introspection/)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, Idp, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.base import Exit, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oauth2_introspection import Oauth2IntrospectionPlugin

BASIC = "Basic " + base64.b64encode(b"kong:secret").decode()
ACTIVE = {"active": True, "scope": "read write", "client_id": "c1", "username": "alice", "sub": "s1"}
INVALID = "The access token is invalid or has expired"


def plugin(runtime: FakeRuntime, idp: Idp, **config: Any) -> Oauth2IntrospectionPlugin:
    base = {"introspection_url": idp.url + "/introspect?ignored=1", "authorization_value": BASIC}
    entity = plugin_entity("Oauth2Introspection.json", {**base, **config})
    return Oauth2IntrospectionPlugin(entity, runtime)


def call(
    runtime: FakeRuntime, p: Oauth2IntrospectionPlugin, request: ProxyRequest
) -> tuple[Exit | None, RequestContext]:
    ctx = make_ctx(request)
    return runtime.run(p.access(ctx)), ctx


def bearer(token: str = "tok-1") -> ProxyRequest:
    return make_request(headers=[("Authorization", f"Bearer {token}")])


# -- 3.2 token extraction ---------------------------------------------------------------------------------


def test_sends_the_query_access_token_to_the_introspection_path(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: access_token from the query; POST to the URL's path, its query dropped."""
    idp.answer("/introspect", body=ACTIVE)
    exit_, _ = call(runtime, plugin(runtime, idp), make_request(query=[("access_token", "q-tok")]))
    assert exit_ is None
    [sent] = idp.calls("/introspect")
    assert sent.method == "POST" and sent.query == ""
    assert sent.form == {"token": "q-tok"}
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["authorization"] == BASIC


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token", "TOKEN"])
def test_accepts_the_bearer_and_token_authorization_schemes(
    runtime: FakeRuntime, idp: Idp, scheme: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: scheme `bearer` or `token`, case-insensitive."""
    idp.answer("/introspect", body=ACTIVE)
    exit_, _ = call(
        runtime, plugin(runtime, idp), make_request(headers=[("Authorization", f"{scheme} h-tok")])
    )
    assert exit_ is None
    assert idp.calls("/introspect")[0].form["token"] == "h-tok"


@pytest.mark.parametrize("value", ["Basic abc", "Bearer a b", "Bearer", "h-tok"])
def test_ignores_an_authorization_header_that_is_not_two_parts_bearer_or_token(
    runtime: FakeRuntime, idp: Idp, value: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: exactly 2 whitespace-separated parts with scheme bearer/token, else no token."""
    exit_, _ = call(runtime, plugin(runtime, idp), make_request(headers=[("Authorization", value)]))
    assert exit_ is not None and exit_.status == 401
    assert exit_.body["error"] == "invalid_request"
    assert idp.calls("/introspect") == []


@pytest.mark.parametrize(
    "kind",
    ["form", "json", "multipart"],
)
def test_reads_access_token_from_form_json_and_multipart_bodies(
    runtime: FakeRuntime, idp: Idp, kind: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: the body (form, JSON or multipart) is merged over the query string."""
    idp.answer("/introspect", body=ACTIVE)
    query = [("access_token", "from-query")]
    if kind == "form":
        request = make_request(method="POST", query=query, form={"access_token": "from-body"})
    elif kind == "json":
        request = make_request(method="POST", query=query, body={"access_token": "from-body"})
    else:
        boundary = "XyZ"
        raw = f'--{boundary}\r\nContent-Disposition: form-data; name="access_token"\r\n\r\nfrom-body\r\n--{boundary}--\r\n'
        request = make_request(
            method="POST",
            query=query,
            body=raw,
            headers=[("Content-Type", f"multipart/form-data; boundary={boundary}")],
        )
    exit_, _ = call(runtime, plugin(runtime, idp, hide_credentials=False), request)
    assert exit_ is None
    assert idp.calls("/introspect")[0].form["token"] == "from-body"


def test_prefers_the_parameter_over_the_authorization_header(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: the header is only read when no access_token parameter exists."""
    idp.answer("/introspect", body=ACTIVE)
    request = make_request(query=[("access_token", "param")], headers=[("Authorization", "Bearer header")])
    call(runtime, plugin(runtime, idp), request)
    assert idp.calls("/introspect")[0].form["token"] == "param"


def test_answers_a_bare_400_to_a_json_body_that_is_not_an_object(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: a JSON body decoding to a non-object ends the request with 400."""
    request = make_request(method="POST", body="[1,2]", headers=[("Content-Type", "application/json")])
    exit_, _ = call(runtime, plugin(runtime, idp), request)
    assert exit_ is not None and exit_.status == 400
    assert idp.calls("/introspect") == []


# -- 3.3 the introspection call ---------------------------------------------------------------------------


def test_sends_token_type_hint_only_when_configured(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: body token=<t> plus token_type_hint only when set."""
    idp.always("/introspect", body=ACTIVE)
    call(runtime, plugin(runtime, idp, token_type_hint="access_token"), bearer("t1"))
    call(runtime, plugin(runtime, idp), bearer("t2"))
    first, second = idp.calls("/introspect")
    assert first.form == {"token": "t1", "token_type_hint": "access_token"}
    assert second.form == {"token": "t2"}


def test_sends_custom_headers_with_dashes_and_request_details(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: custom_introspection_headers (`_` -> `-`), X-Request-* with introspect_request."""
    idp.answer("/introspect", body=ACTIVE)
    p = plugin(runtime, idp, custom_introspection_headers={"x_tenant_id": "t-9"}, introspect_request=True)
    request = make_request("/orders/7", method="DELETE", headers=[("Authorization", "Bearer tok")])
    call(runtime, p, request)
    sent = idp.calls("/introspect")[0]
    assert sent.headers["x-tenant-id"] == "t-9"
    assert sent.headers["x-request-http-method"] == "DELETE"
    assert sent.headers["x-request-path"] == "/orders/7"


def test_omits_request_details_without_introspect_request(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: X-Request-Http-Method/X-Request-Path only when introspect_request=true."""
    idp.answer("/introspect", body=ACTIVE)
    call(runtime, plugin(runtime, idp), bearer())
    sent = idp.calls("/introspect")[0]
    assert "x-request-path" not in sent.headers and "x-request-http-method" not in sent.headers


# -- 3.4 responses ----------------------------------------------------------------------------------------


def test_rejects_a_request_without_token_with_invalid_request(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: no token -> 401 invalid_request, `Bearer realm="service"`."""
    exit_, _ = call(runtime, plugin(runtime, idp), make_request())
    assert exit_ is not None and exit_.status == 401
    assert exit_.body == {"error": "invalid_request", "error_description": "The access token is missing"}
    assert exit_.headers["WWW-Authenticate"] == 'Bearer realm="service"'


def test_rejects_an_inactive_token_with_space_separated_challenge(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: active:false -> 401 invalid_token, params separated by spaces, no commas."""
    idp.answer("/introspect", body={"active": False})
    exit_, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is not None and exit_.status == 401
    assert exit_.body == {"error": "invalid_token", "error_description": INVALID}
    assert exit_.headers["WWW-Authenticate"] == (
        f'Bearer realm="service" error="invalid_token" error_description="{INVALID}"'
    )
    assert ctx.credential is None


def test_rejects_a_response_without_active(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url: the `active` field must be truthy; absent is not."""
    idp.answer("/introspect", body={"scope": "read"})
    exit_, _ = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is not None and exit_.status == 401 and exit_.body["error"] == "invalid_token"


@pytest.mark.parametrize("status", [201, 400, 401, 500, 503])
def test_answers_401_with_the_raw_idp_body_when_the_idp_does_not_answer_200(
    runtime: FakeRuntime, idp: Idp, status: int
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: only 200 succeeds; otherwise 401 with the IdP body as a raw string."""
    idp.answer("/introspect", status=status, body='{"error":"server_error"}')
    exit_, _ = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is not None and exit_.status == 401
    assert exit_.body == '{"error":"server_error"}'
    assert "WWW-Authenticate" not in exit_.headers
    assert "Content-Type" not in exit_.headers


def test_answers_401_with_the_error_text_when_the_idp_is_unreachable(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: a connection error -> 401 with the socket error text."""
    p = plugin(runtime, idp, introspection_url="http://127.0.0.1:9/introspect")
    exit_, _ = call(runtime, p, bearer())
    assert exit_ is not None and exit_.status == 401
    assert isinstance(exit_.body, str) and exit_.body


# -- 3.5 upstream headers ---------------------------------------------------------------------------------


def test_forwards_introspection_fields_as_credential_headers(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: X-Credential-* from the response; X-Credential-Identifier is the username."""
    claims = {
        "active": True,
        "scope": "a b",
        "client_id": "cid",
        "username": "alice",
        "token_type": "access_token",
        "exp": 1700000060,
        "iat": 1700000000,
        "nbf": 1700000000,
        "sub": "sub-1",
        "aud": "api",
        "iss": "https://issuer",
        "jti": "j-1",
    }
    idp.answer("/introspect", body=claims)
    exit_, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is None
    h = ctx.request.headers
    assert h.get("X-Credential-Scope") == "a b"
    assert h.get("X-Credential-Client-ID") == "cid"
    assert h.get("X-Credential-Identifier") == "alice"
    assert h.get("X-Credential-Token-Type") == "access_token"
    assert h.get("X-Credential-Exp") == "1700000060"
    assert h.get("X-Credential-Iat") == "1700000000"
    assert h.get("X-Credential-Nbf") == "1700000000"
    assert h.get("X-Credential-Sub") == "sub-1"
    assert h.get("X-Credential-Aud") == "api"
    assert h.get("X-Credential-Iss") == "https://issuer"
    assert h.get("X-Credential-Jti") == "j-1"
    assert ctx.credential is not None and ctx.credential["client_id"] == "cid"


def test_omits_credential_headers_for_absent_fields(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: a header is omitted (cleared) when its field is absent."""
    idp.answer("/introspect", body={"active": True})
    request = make_request(headers=[("Authorization", "Bearer t"), ("X-Credential-Sub", "forged")])
    exit_, ctx = call(runtime, plugin(runtime, idp), request)
    assert exit_ is None
    assert ctx.request.headers.get("X-Credential-Sub") is None
    assert ctx.request.headers.get("X-Credential-Scope") is None


def test_forwards_custom_claims_with_dashed_names(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: custom_claims_forward [foo_bar] -> X-Credential-Foo-Bar."""
    idp.answer("/introspect", body={"active": True, "foo_bar": "baz", "tier": "gold"})
    exit_, ctx = call(
        runtime, plugin(runtime, idp, custom_claims_forward=["foo_bar", "tier", "missing"]), bearer()
    )
    assert exit_ is None
    assert ctx.request.headers.get("x-credential-foo-bar") == "baz"
    assert ctx.request.headers.get("x-credential-tier") == "gold"
    assert ctx.request.headers.get("x-credential-missing") is None


def test_maps_the_username_to_a_consumer(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: consumer_by=username matches consumer.username; X-Consumer-* set."""
    consumer = runtime.add_consumer(username="alice", custom_id="c-alice")
    idp.answer("/introspect", body=ACTIVE)
    exit_, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is None
    assert ctx.consumer == consumer
    assert ctx.request.headers.get("X-Consumer-ID") == consumer["id"]
    assert ctx.request.headers.get("X-Consumer-Username") == "alice"
    assert ctx.request.headers.get("X-Consumer-Custom-ID") == "c-alice"


def test_maps_client_id_to_the_consumer_custom_id(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: consumer_by=client_id matches response client_id to consumer.custom_id."""
    runtime.add_consumer(username="c1")  # same value as username: must not match
    consumer = runtime.add_consumer(username="svc", custom_id="c1")
    idp.answer("/introspect", body=ACTIVE)
    exit_, ctx = call(runtime, plugin(runtime, idp, consumer_by="client_id"), bearer())
    assert exit_ is None
    assert ctx.request.headers.get("X-Consumer-ID") == consumer["id"]


def test_authenticates_without_consumer_headers_when_no_consumer_matches(
    runtime: FakeRuntime, idp: Idp
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: no match still authenticates, with no X-Consumer headers."""
    idp.answer("/introspect", body=ACTIVE)
    exit_, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is None
    assert ctx.credential is not None and ctx.consumer is None
    assert ctx.request.headers.get("X-Consumer-ID") is None


def test_clears_the_anonymous_header_on_success(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: X-Anonymous-Consumer is cleared on success."""
    idp.answer("/introspect", body=ACTIVE)
    request = make_request(headers=[("Authorization", "Bearer t"), ("X-Anonymous-Consumer", "true")])
    _, ctx = call(runtime, plugin(runtime, idp), request)
    assert ctx.request.headers.get("X-Anonymous-Consumer") is None


# -- hide_credentials -------------------------------------------------------------------------------------


def test_hides_the_authorization_header_when_asked(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: hide_credentials clears the header the token came from."""
    idp.always("/introspect", body=ACTIVE)
    _, hidden = call(runtime, plugin(runtime, idp, hide_credentials=True), bearer("t1"))
    _, shown = call(runtime, plugin(runtime, idp, hide_credentials=False), bearer("t2"))
    assert hidden.request.headers.get("Authorization") is None
    assert shown.request.headers.get("Authorization") == "Bearer t2"


def test_hides_a_query_and_form_token(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: hide_credentials removes access_token from the query and the form body."""
    idp.always("/introspect", body=ACTIVE)
    request = make_request(
        method="POST", query=[("access_token", "q"), ("keep", "1")], form={"access_token": "b", "x": "y"}
    )
    exit_, ctx = call(runtime, plugin(runtime, idp, hide_credentials=True), request)
    assert exit_ is None
    assert ctx.request.query == [("keep", "1")]
    assert ctx.request.body == b"x=y"


def test_hides_credentials_by_default_in_315(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/gateway/authentication/ and 3.1: hide_credentials defaults to true from 3.14."""
    idp.answer("/introspect", body=ACTIVE)
    _, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert ctx.request.headers.get("Authorization") is None


# -- anonymous and chaining -------------------------------------------------------------------------------


def test_maps_the_anonymous_consumer_on_failure(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/gateway/authentication/ and 3.5: with anonymous, failure proxies as the anonymous consumer."""
    anon = runtime.add_consumer(username="anon")
    idp.answer("/introspect", body={"active": False})
    exit_, ctx = call(runtime, plugin(runtime, idp, anonymous="anon"), bearer())
    assert exit_ is None
    h = ctx.request.headers
    assert h.get("X-Anonymous-Consumer") == "true"
    assert h.get("X-Consumer-ID") == anon["id"] and h.get("X-Consumer-Username") == "anon"
    assert h.get("X-Credential-Scope") is None
    assert ctx.consumer == anon and ctx.credential is None


def test_answers_500_when_the_anonymous_consumer_does_not_exist(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: anonymous configured but missing -> 500 with Kong's message."""
    exit_, _ = call(runtime, plugin(runtime, idp, anonymous="ghost"), make_request())
    assert exit_ is not None and exit_.status == 500
    assert exit_.body == {"message": "anonymous consumer ghost is configured but doesn't exist"}


def test_skips_itself_when_already_authenticated_and_anonymous_is_set(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/gateway/authentication/: logical OR, an earlier credential makes the plugin skip."""
    runtime.add_consumer(username="anon")
    ctx = make_ctx(make_request())
    ctx.authenticate({"id": "c"}, {"id": "earlier"})
    assert runtime.run(plugin(runtime, idp, anonymous="anon").access(ctx)) is None
    assert idp.calls("/introspect") == []


def test_skips_preflight_requests_when_run_on_preflight_is_false(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/: run_on_preflight=false lets OPTIONS through."""
    exit_, _ = call(runtime, plugin(runtime, idp, run_on_preflight=False), make_request(method="OPTIONS"))
    assert exit_ is None
    exit_, _ = call(runtime, plugin(runtime, idp), make_request(method="OPTIONS"))
    assert exit_ is not None and exit_.status == 401


def test_answers_500_when_the_idp_answers_200_with_invalid_json(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-introspection-url (inferred): undecodable 200 body is a Lua error in Kong -> generic 500."""
    idp.answer("/introspect", body="not json")
    exit_, _ = call(runtime, plugin(runtime, idp), bearer())
    assert exit_ is not None and exit_.status == 500


def test_json_credential_body_is_json_encoded(runtime: FakeRuntime, idp: Idp) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: an array claim becomes one header per element (ngx set_header with a table)."""
    idp.answer("/introspect", body={"active": True, "aud": ["a1", "a2"]})
    _, ctx = call(runtime, plugin(runtime, idp), bearer())
    assert ctx.request.headers.get_all("X-Credential-Aud") == ["a1", "a2"]
    assert ctx.credential is not None
    assert json.dumps(ctx.credential["aud"]) == '["a1", "a2"]'


@pytest.mark.parametrize("version,with_id", [((3, 15), True), ((3, 5), False)])
def test_the_bare_400_is_kongs_error_handler_body(idp: Idp, version: tuple[int, int], with_id: bool) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials: `ngx.exit(400)` goes through Kong's error handler (request_id from 3.6)."""
    runtime = FakeRuntime(kong_version=version)
    ctx = make_ctx(make_request(method="POST", body="1", headers=[("Content-Type", "application/json")]))
    ctx.shared["request_id"] = "rid-1"
    exit_ = runtime.run(plugin(runtime, idp).access(ctx))
    assert exit_ is not None and exit_.status == 400
    expected = {"message": "Bad request", **({"request_id": "rid-1"} if with_id else {})}
    assert exit_.body == expected
