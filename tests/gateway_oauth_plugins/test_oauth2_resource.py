"""The OSS oauth2 plugin on resource requests: token validation (https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.base import Exit, ProxyRequest, RequestContext
from kongformance.gateway.plugins.oauth2 import Oauth2Plugin
from kongformance.gateway.plugins.oauth2_store import Oauth2Token

INVALID = "The access token is invalid or has expired"


def plugin(runtime: FakeRuntime, **config: Any) -> Oauth2Plugin:
    return Oauth2Plugin(plugin_entity("Oauth2.json", {"enable_client_credentials": True, **config}), runtime)


@pytest.fixture
def consumer(runtime: FakeRuntime) -> dict[str, Any]:
    return runtime.add_consumer(username="alice", custom_id="c-alice")


@pytest.fixture
def credential(runtime: FakeRuntime, consumer: dict[str, Any]) -> dict[str, Any]:
    return runtime.add_credential(consumer, client_id="cid", client_secret="csecret")


def issue(runtime: FakeRuntime, credential: dict[str, Any], **kwargs: Any) -> Oauth2Token:
    fields: dict[str, Any] = {
        "service_id": "svc-1",
        "scope": "email profile",
        "authenticated_userid": "u-1",
        "expires_in": 7200,
    }
    fields.update(kwargs)
    return runtime.oauth2_store().issue(credential, **fields)


def call(
    runtime: FakeRuntime, p: Oauth2Plugin, request: ProxyRequest, service_id: str = "svc-1"
) -> tuple[Exit | None, RequestContext]:
    ctx = make_ctx(request, service_id)
    return runtime.run(p.access(ctx)), ctx


def bearer(token: str) -> ProxyRequest:
    return make_request(headers=[("Authorization", f"Bearer {token}")])


def test_accepts_a_valid_token_and_sets_upstream_headers(
    runtime: FakeRuntime, consumer: dict[str, Any], credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: X-Consumer-*, X-Credential-Identifier (client_id), X-Authenticated-Scope/UserId."""
    token = issue(runtime, credential)
    request = make_request(
        headers=[("Authorization", f"Bearer {token.access_token}"), ("X-Anonymous-Consumer", "true")]
    )
    exit_, ctx = call(runtime, plugin(runtime, hide_credentials=False), request)
    assert exit_ is None
    h = ctx.request.headers
    assert h.get("X-Consumer-ID") == consumer["id"]
    assert h.get("X-Consumer-Username") == "alice" and h.get("X-Consumer-Custom-ID") == "c-alice"
    assert h.get("X-Credential-Identifier") == "cid"
    assert h.get("X-Authenticated-Scope") == "email profile"
    assert h.get("X-Authenticated-UserId") == "u-1"
    assert h.get("X-Anonymous-Consumer") is None
    assert ctx.consumer == consumer and ctx.credential is not None and "client_secret" not in ctx.credential


def test_clears_empty_authenticated_values(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: empty values are cleared (a client cannot forge them)."""
    token = issue(runtime, credential, scope=None, authenticated_userid=None)
    request = make_request(
        headers=[("Authorization", f"Bearer {token.access_token}"), ("X-Authenticated-UserId", "forged")]
    )
    exit_, ctx = call(runtime, plugin(runtime), request)
    assert exit_ is None and ctx.request.headers.get("X-Authenticated-UserId") is None


@pytest.mark.parametrize(
    "version,realm,expected",
    [
        ((3, 15), None, "Bearer"),
        ((3, 15), "api", 'Bearer realm="api"'),
        ((3, 9), None, "Bearer"),
        ((3, 7), None, 'Bearer realm="service"'),
    ],
)
def test_rejects_a_missing_token_with_invalid_request(
    version: tuple[int, int], realm: str | None, expected: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: missing -> 401 invalid_request; `Bearer` or `Bearer realm=...` by version."""
    runtime = FakeRuntime(kong_version=version)
    config = {"realm": realm} if realm else {}
    exit_, _ = call(runtime, plugin(runtime, **config), make_request())
    assert exit_ is not None and exit_.status == 401
    assert exit_.body == {"error": "invalid_request", "error_description": "The access token is missing"}
    assert exit_.headers["WWW-Authenticate"] == expected


@pytest.mark.parametrize(
    "version,realm,expected",
    [
        ((3, 15), "api", f'Bearer realm="api", error="invalid_token", error_description="{INVALID}"'),
        ((3, 11), None, f'Bearer error="invalid_token", error_description="{INVALID}"'),
        ((3, 9), None, f'Bearer error="invalid_token" error_description="{INVALID}"'),
        ((3, 9), "api", f'Bearer realm="api" error="invalid_token" error_description="{INVALID}"'),
        ((3, 7), None, f'Bearer realm="service" error="invalid_token" error_description="{INVALID}"'),
    ],
)
def test_rejects_an_unknown_token_with_a_versioned_challenge(
    version: tuple[int, int], realm: str | None, expected: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: invalid_token; space-separated before 3.11, comma-separated from 3.11."""
    runtime = FakeRuntime(kong_version=version)
    config = {"realm": realm} if realm else {}
    exit_, _ = call(runtime, plugin(runtime, **config), bearer("nope"))
    assert exit_ is not None and exit_.status == 401
    assert exit_.body == {"error": "invalid_token", "error_description": INVALID}
    assert exit_.headers["WWW-Authenticate"] == expected


def test_rejects_an_expired_token(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: expired when now - created_at > expires_in."""
    token = issue(runtime, credential, expires_in=10)
    p = plugin(runtime)
    runtime.clock.advance(10 - (runtime.clock.now() % 1))  # exactly created_at + 10: still valid
    assert call(runtime, p, bearer(token.access_token))[0] is None
    runtime.clock.advance(1.5)
    exit_, _ = call(runtime, p, bearer(token.access_token))
    assert exit_ is not None and exit_.status == 401 and exit_.body["error"] == "invalid_token"


def test_a_zero_expires_in_never_expires(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: token_expiration 0 means never expires."""
    token = issue(runtime, credential, expires_in=0)
    runtime.clock.advance(10**7)
    assert call(runtime, plugin(runtime), bearer(token.access_token))[0] is None


def test_rejects_a_token_of_another_service(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: global_credentials=false ties tokens to the Service."""
    token = issue(runtime, credential, service_id="svc-other")
    exit_, _ = call(runtime, plugin(runtime), bearer(token.access_token))
    assert exit_ is not None and exit_.status == 401 and exit_.body["error"] == "invalid_token"


def test_rejects_a_global_token_on_a_non_global_plugin(
    runtime: FakeRuntime, credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: a global token with a non-global plugin -> the 'global' message."""
    token = issue(runtime, credential, service_id=None)
    exit_, _ = call(runtime, plugin(runtime), bearer(token.access_token))
    assert exit_ is not None and exit_.status == 401
    assert exit_.body["error_description"] == (
        "The access token is global, but the current plugin is configured without 'global_credentials'"
    )
    accepted, _ = call(runtime, plugin(runtime, global_credentials=True), bearer(token.access_token), "svc-9")
    assert accepted is None


def test_uses_the_raw_header_value_when_it_is_not_bearer_form(
    runtime: FakeRuntime, credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: a header not shaped `bearer <t>` is used whole as the token."""
    token = issue(runtime, credential)
    assert (
        call(runtime, plugin(runtime), make_request(headers=[("Authorization", token.access_token)]))[0]
        is None
    )
    exit_, _ = call(
        runtime, plugin(runtime), make_request(headers=[("Authorization", f"Basic {token.access_token}")])
    )
    assert exit_ is not None and exit_.body["error"] == "invalid_token"


def test_reads_the_configured_auth_header(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: the token is read from auth_header_name."""
    token = issue(runtime, credential)
    p = plugin(runtime, auth_header_name="x-api-token")
    assert call(runtime, p, make_request(headers=[("X-Api-Token", f"token {token.access_token}")]))[0] is None


def test_reads_access_token_from_query_or_body_only_without_the_header(
    runtime: FakeRuntime, credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: access_token from query/body only when the header is absent."""
    token = issue(runtime, credential)
    p = plugin(runtime, hide_credentials=False)
    assert call(runtime, p, make_request(query=[("access_token", token.access_token)]))[0] is None
    assert call(runtime, p, make_request(method="POST", form={"access_token": token.access_token}))[0] is None
    shadowed = make_request(
        query=[("access_token", token.access_token)], headers=[("Authorization", "Bearer junk")]
    )
    exit_, _ = call(runtime, p, shadowed)
    assert exit_ is not None and exit_.status == 401


def test_hide_credentials_removes_the_header_and_parameters(
    runtime: FakeRuntime, credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: hide_credentials clears the header, or access_token from query and form body."""
    token = issue(runtime, credential)
    p = plugin(runtime, hide_credentials=True)
    _, ctx = call(runtime, p, bearer(token.access_token))
    assert ctx.request.headers.get("Authorization") is None
    request = make_request(
        method="POST", query=[("access_token", token.access_token), ("q", "1")], form={"a": "b"}
    )
    _, ctx = call(runtime, p, request)
    assert ctx.request.query == [("q", "1")]
    request = make_request(method="POST", form={"access_token": token.access_token, "a": "b"})
    _, ctx = call(runtime, p, request)
    assert ctx.request.body == b"a=b"


def test_keeps_the_header_when_hide_credentials_is_off(
    runtime: FakeRuntime, credential: dict[str, Any]
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: without hide_credentials the token reaches the upstream."""
    token = issue(runtime, credential)
    _, ctx = call(runtime, plugin(runtime, hide_credentials=False), bearer(token.access_token))
    assert ctx.request.headers.get("Authorization") == f"Bearer {token.access_token}"


def test_a_token_of_a_deleted_credential_is_invalid(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/handler.lua: tokens belong to their credential (deleting it deletes them)."""
    token = issue(runtime, credential)
    runtime.credentials.clear()
    exit_, _ = call(runtime, plugin(runtime), bearer(token.access_token))
    assert exit_ is not None and exit_.body["error"] == "invalid_token"


def test_maps_the_anonymous_consumer_on_failure(runtime: FakeRuntime) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: anonymous -> X-Anonymous-Consumer: true, X-Credential/X-Authenticated cleared."""
    anon = runtime.add_consumer(username="anon")
    request = make_request(
        headers=[("X-Authenticated-Scope", "forged"), ("X-Credential-Identifier", "forged")]
    )
    exit_, ctx = call(runtime, plugin(runtime, anonymous=anon["id"]), request)
    assert exit_ is None
    h = ctx.request.headers
    assert h.get("X-Anonymous-Consumer") == "true" and h.get("X-Consumer-ID") == anon["id"]
    assert h.get("X-Authenticated-Scope") is None and h.get("X-Credential-Identifier") is None


def test_answers_500_for_a_missing_anonymous_consumer(runtime: FakeRuntime) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: a missing anonymous consumer gives 500."""
    exit_, _ = call(runtime, plugin(runtime, anonymous="ghost"), make_request())
    assert exit_ is not None and exit_.status == 500
    assert exit_.body == {"message": "anonymous consumer ghost is configured but doesn't exist"}


def test_skips_when_already_authenticated_and_clears_authenticated_headers(runtime: FakeRuntime) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: with a credential from an earlier plugin, clear X-Authenticated-* and skip."""
    runtime.add_consumer(username="anon")
    request = make_request(headers=[("X-Authenticated-Scope", "s"), ("X-Authenticated-UserId", "u")])
    ctx = make_ctx(request)
    ctx.authenticate({"id": "c"}, {"id": "earlier"})
    assert runtime.run(plugin(runtime, anonymous="anon").access(ctx)) is None
    assert ctx.request.headers.get("X-Authenticated-Scope") is None
    assert ctx.request.headers.get("X-Authenticated-UserId") is None


def test_defect_accept_expired_token(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (expiry)."""
    token = issue(runtime, credential, expires_in=10)
    runtime.clock.advance(60)
    assert call(runtime, plugin(runtime), bearer(token.access_token))[0] is not None
    runtime.defects.enable("oauth2_accept_expired_token")
    assert call(runtime, plugin(runtime), bearer(token.access_token))[0] is None


def test_defect_accept_other_service_token(runtime: FakeRuntime, credential: dict[str, Any]) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua (global_credentials=false binds a token to its Service)."""
    token = issue(runtime, credential, service_id="svc-other")
    runtime.defects.enable("oauth2_accept_other_service_token")
    assert call(runtime, plugin(runtime), bearer(token.access_token))[0] is None
