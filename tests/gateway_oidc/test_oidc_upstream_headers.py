"""What openid-connect sends upstream (https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kongformance.gateway.plugins.oidc_headers import encode_value

from .conftest import make_request, oidc_harness


def test_upstream_gets_authorization_bearer_even_with_hide_credentials() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: upstream_access_token_header authorization:bearer re-sends "Bearer <token>"."""
    h = oidc_harness(hide_credentials=True)
    token = h.idp.token()
    _, ctx = h.call(make_request(headers=[("Authorization", f"bearer   {token}")]))
    assert ctx.request.headers.get_all("Authorization") == [f"Bearer {token}"]


def test_null_upstream_access_token_header_strips_the_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: set upstream_access_token_header to null to strip it."""
    h = oidc_harness(hide_credentials=True, upstream_access_token_header=None)
    _, ctx = h.send(h.idp.token())
    assert ctx.request.headers.get("Authorization") is None


def test_a_custom_upstream_access_token_header_without_type_carries_the_raw_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: "name" without ":bearer" carries the bare token (inferred)."""
    h = oidc_harness(upstream_access_token_header="X-Token")
    token = h.idp.token()
    _, ctx = h.send(token)
    assert ctx.request.headers.get("X-Token") == token


def test_hide_credentials_removes_the_query_token_and_still_sends_authorization() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: hide_credentials removes the access_token query argument."""
    h = oidc_harness(hide_credentials=True)
    token = h.idp.token()
    _, ctx = h.call(make_request(query=[("access_token", token), ("a", "1")]))
    assert ctx.request.query == [("a", "1")]
    assert ctx.request.headers.get("Authorization") == f"Bearer {token}"


def test_without_hide_credentials_the_query_token_stays_and_is_copied() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: without hide_credentials a query token stays and is copied into Authorization."""
    h = oidc_harness(hide_credentials=False)
    token = h.idp.token()
    _, ctx = h.call(make_request(query=[("access_token", token)]))
    assert ctx.request.query == [("access_token", token)]
    assert ctx.request.headers.get("Authorization") == f"Bearer {token}"


@pytest.mark.parametrize("name", ["access-token", "x-access-token"])
def test_hide_credentials_removes_the_token_header(name: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: hide_credentials removes access-token/x-access-token."""
    h = oidc_harness(hide_credentials=True)
    _, ctx = h.call(make_request(headers=[(name, h.idp.token())]))
    assert ctx.request.headers.get(name) is None


def test_hide_credentials_removes_form_and_json_body_fields_and_cookie() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: hide_credentials removes the access_token body/JSON field or the cookie."""
    h = oidc_harness(hide_credentials=True)
    form = make_request(
        method="POST",
        body=f"access_token={h.idp.token()}&keep=1".encode(),
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
    )
    _, ctx = h.call(form)
    assert ctx.request.body == b"keep=1"
    js = make_request(
        method="POST",
        body=json.dumps({"access_token": h.idp.token(), "keep": 1}).encode(),
        headers=[("Content-Type", "application/json")],
    )
    _, ctx2 = h.call(js)
    assert json.loads(ctx2.request.body) == {"keep": 1}
    hc = oidc_harness(
        hide_credentials=True, bearer_token_param_type=["cookie"], bearer_token_cookie_name="at"
    )
    _, ctx3 = hc.call(make_request(headers=[("Cookie", f"a=1; at={hc.idp.token()}")]))
    assert ctx3.request.headers.get("Cookie") == "a=1"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("text", "text"),
        (42, "42"),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        (None, None),
    ],
)
def test_scalar_claim_values_are_stringified(value: object, encoded: str | None) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: strings as-is, numbers and booleans converted to strings."""
    assert encode_value(value) == encoded


def test_table_claim_values_are_json_then_base64() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: tables are JSON-encoded then base64-encoded."""
    value = {"a": [1, 2], "b": "x"}
    encoded = encode_value(value)
    assert encoded is not None
    assert json.loads(base64.b64decode(encoded)) == value


def test_upstream_headers_claims_and_names() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: upstream_headers_claims + upstream_headers_names (top-level claims)."""
    h = oidc_harness(
        upstream_headers_claims=["sub", "scope", "aud"], upstream_headers_names=["X-Sub", "X-Scope", "X-Aud"]
    )
    _, ctx = h.send(h.idp.token())
    headers = ctx.request.headers
    assert headers.get("X-Sub") == "client-1"
    assert headers.get("X-Scope") == "read write"
    aud = headers.get("X-Aud")
    assert aud is not None
    assert json.loads(base64.b64decode(aud)) == ["api://default"]


def test_upstream_headers_with_nested_paths_from_3_14() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: 3.14+ upstream_headers [{header, path}] reaches nested claims."""
    config: dict[str, Any] = {"upstream_headers": [{"header": "X-Tenant", "path": ["org", "tenant"]}]}
    h = oidc_harness(**config)
    _, ctx = h.send(h.idp.token({"org": {"tenant": "t-9"}}))
    assert ctx.request.headers.get("X-Tenant") == "t-9"
    old = oidc_harness(kong_version=(3, 13), **config)
    _, ctx_old = old.send(old.idp.token({"org": {"tenant": "t-9"}}))
    assert ctx_old.request.headers.get("X-Tenant") is None


def test_a_missing_claim_clears_a_client_sent_header_of_the_same_name() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: later versions clear a client-sent header when the claim is missing."""
    h = oidc_harness(upstream_headers_claims=["email"], upstream_headers_names=["X-Email"])
    _, ctx = h.send(h.idp.token(), headers=[("X-Email", "forged@example.test")])
    assert ctx.request.headers.get("X-Email") is None


def test_before_3_10_a_client_header_passed_through_when_the_claim_was_missing() -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: before the 3.10.0.10 fix the client-sent header passed through."""
    h = oidc_harness(
        kong_version=(3, 9), upstream_headers_claims=["email"], upstream_headers_names=["X-Email"]
    )
    _, ctx = h.send(h.idp.token(), headers=[("X-Email", "forged@example.test")])
    assert ctx.request.headers.get("X-Email") == "forged@example.test"


def test_failed_requests_do_not_touch_the_upstream_request() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: a rejected request gets no upstream headers (nothing is forwarded)."""
    h = oidc_harness(upstream_headers_claims=["sub"], upstream_headers_names=["X-Sub"])
    _, ctx = h.send("x.y.z")
    assert ctx.request.headers.get("X-Sub") is None
    assert ctx.request.headers.get("Authorization") == "Bearer x.y.z"
