"""Authorization checks, consumer mapping and anonymous of openid-connect (https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization and https://developer.konghq.com/plugins/openid-connect/#consumer-authorization)."""

from __future__ import annotations

import pytest

from kongformance.gateway.plugins.oidc_authz import meets

from .conftest import ISSUER, oidc_harness


@pytest.mark.parametrize(
    ("required", "value", "ok"),
    [
        (["read"], "read write", True),
        (["admin"], "read write", False),
        (["read write"], "read write", True),  # AND inside one element
        (["read admin"], "read write", False),
        (["admin", "write"], "read write", True),  # OR across elements
        (["read"], ["read", "write"], True),  # array claim
        (["read write"], ["read"], False),
        (["x"], None, False),
    ],
)
def test_required_values_are_or_of_elements_and_and_within_one(
    required: list[str], value: str | list[str] | None, ok: bool
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: each element is an alternative; space-separated values inside must all be present."""
    assert meets(required, value) is ok


def test_scopes_required_unmet_gives_403_and_met_passes() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: scopes_required unmet gives 403."""
    h = oidc_harness(scopes_required=["admin", "read write"])
    assert h.send(h.idp.token({"scope": "read write"}))[0] is None
    result, _ = h.send(h.idp.token({"scope": "read"}))
    assert result is not None and result.status == 403


def test_audience_required_checks_the_aud_array() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: audience_required against aud (array) gives 403 when unmet."""
    h = oidc_harness(audience_required=["api://orders"])
    assert h.send(h.idp.token({"aud": ["api://orders", "x"]}))[0] is None
    result, _ = h.send(h.idp.token({"aud": ["api://default"]}))
    assert result is not None and result.status == 403


def test_claim_paths_reach_nested_claims() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: *_claim is a path array into nested objects."""
    h = oidc_harness(scopes_claim=["realm_access", "scopes"], scopes_required=["admin"])
    assert h.send(h.idp.token({"realm_access": {"scopes": ["admin"]}}))[0] is None
    assert h.refusal(h.idp.token()).status == 403


def test_groups_and_roles_required() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: groups_required / roles_required unmet give 403."""
    h = oidc_harness(groups_required=["staff"], roles_required=["editor"])
    assert h.send(h.idp.token({"groups": ["staff"], "roles": "editor viewer"}))[0] is None
    assert h.refusal(h.idp.token({"groups": ["staff"]})).status == 403
    assert h.refusal(h.idp.token({"roles": ["editor"]})).status == 403


def test_issuers_allowed_mismatch_gives_401() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: issuers_allowed mismatch gives 401."""
    h = oidc_harness(issuers_allowed=["https://only.example.test"], verify_claims=False)
    result, _ = h.send(h.idp.token({"iss": ISSUER}))
    assert result is not None and result.status == 401


def test_claims_forbidden_gives_403() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: claims_forbidden hit gives 403."""
    h = oidc_harness(claims_forbidden=["act"])
    assert h.send(h.idp.token())[0] is None
    result, _ = h.send(h.idp.token({"act": {"sub": "someone"}}))
    assert result is not None and result.status == 403


def test_introspection_results_are_searched_before_the_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization: values are looked up first in introspection results, then in the access token."""
    h = oidc_harness(
        introspect_jwt_tokens=True, client_id=["c"], client_secret=["s"], scopes_required=["admin"]
    )
    token = h.idp.token({"scope": "read"})
    h.idp.introspection[token] = {"active": True, "scope": "admin"}
    assert h.send(token)[0] is None


def test_maps_a_consumer_by_custom_id_then_username() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: consumer_claims + consumer_by (default custom_id, username); X-Consumer-* set."""
    h = oidc_harness(consumer_claims=[["sub"]])
    result, ctx = h.send(h.idp.token({"sub": "client-1"}))
    assert result is None
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-alice"
    headers = ctx.request.headers
    assert headers.get("X-Consumer-ID") == "c-alice"
    assert headers.get("X-Consumer-Custom-ID") == "client-1"
    assert headers.get("X-Consumer-Username") == "alice"
    assert headers.get("X-Credential-Identifier") is None
    _, ctx2 = h.send(h.idp.token({"sub": "alice"}))
    assert ctx2.consumer is not None
    assert ctx2.consumer["id"] == "c-alice"


def test_first_present_consumer_claim_wins() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: consumer_claims is an array of paths, first match wins."""
    h = oidc_harness(consumer_claims=[["user", "name"], ["sub"]], consumer_by=["username"])
    _, ctx = h.send(h.idp.token({"user": {"name": "Bob"}, "sub": "alice"}))
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-bob"


def test_legacy_consumer_claim_is_honoured() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: consumer_claim (up to 3.13, a single path array)."""
    h = oidc_harness(kong_version=(3, 13), consumer_claim=["sub"], consumer_by=["username"])
    _, ctx = h.send(h.idp.token({"sub": "alice"}))
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-alice"


def test_unknown_consumer_gives_403_unless_optional() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#claims-based-authorization and https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: consumer mapping failure with consumer_optional=false gives 403."""
    h = oidc_harness(consumer_claims=[["sub"]])
    result, _ = h.send(h.idp.token({"sub": "nobody"}))
    assert result is not None and result.status == 403
    assert result.headers["WWW-Authenticate"].endswith('error="insufficient_scope"')
    optional = oidc_harness(consumer_claims=[["sub"]], consumer_optional=True)
    result2, ctx = optional.send(optional.idp.token({"sub": "nobody"}))
    assert result2 is None and ctx.consumer is None


def test_by_username_ignore_case() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: by_username_ignore_case (default false)."""
    strict = oidc_harness(consumer_claims=[["sub"]], consumer_by=["username"])
    assert strict.refusal(strict.idp.token({"sub": "bob"})).status == 403
    loose = oidc_harness(consumer_claims=[["sub"]], consumer_by=["username"], by_username_ignore_case=True)
    _, ctx = loose.send(loose.idp.token({"sub": "bob"}))
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-bob"


def test_credential_claim_sets_a_virtual_credential_without_consumer_headers() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: without mapping, credential_claim (default sub) sets {id=<value>}; no X-Consumer-*."""
    h = oidc_harness(credential_claim=["client_id"])
    _, ctx = h.send(h.idp.token({"client_id": "abc"}))
    assert ctx.credential == {"id": "abc"}
    assert ctx.consumer is None
    assert ctx.request.headers.get("X-Consumer-ID") is None


@pytest.mark.parametrize("case", ["no-token", "bad-token", "missing-scope"])
def test_anonymous_takes_over_both_401_and_403(case: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: both 401 and 403 outcomes fall back to anonymous, with X-Anonymous-Consumer."""
    h = oidc_harness(anonymous="anonymous", scopes_required=["admin"])
    token = {"no-token": None, "bad-token": "x.y.z", "missing-scope": h.idp.token()}[case]
    result, ctx = h.send(token)
    assert result is None
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-anon"
    assert ctx.request.headers.get("X-Anonymous-Consumer") == "true"
    assert ctx.request.headers.get("X-Consumer-Username") == "anonymous"


def test_anonymous_that_does_not_exist_gives_500() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow and https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: a missing anonymous consumer is a 500."""
    h = oidc_harness(anonymous="ghost")
    result, _ = h.send(None)
    assert result is not None and result.status == 500
    assert result.body == {"message": "An unexpected error occurred"}


def test_anonymous_skips_when_an_earlier_plugin_authenticated() -> None:
    """https://developer.konghq.com/gateway/authentication/: with anonymous set, an already-set credential makes the plugin skip itself."""
    from kongformance.gateway.plugins.base import RequestContext

    from .conftest import make_request, run

    h = oidc_harness(anonymous="anonymous")
    ctx = RequestContext(request=make_request(), route={}, service=None, credential={"id": "earlier"})
    assert run(h.plugin.access(ctx)) is None
    assert ctx.credential == {"id": "earlier"}


def test_authenticated_groups_claim_sets_ctx_and_header() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#consumer-authorization: authenticated_groups_claim -> ctx.authenticated_groups and X-Authenticated-Groups joined by ', '."""
    h = oidc_harness(authenticated_groups_claim=["groups"])
    _, ctx = h.send(h.idp.token({"groups": ["admins", "staff"]}))
    assert ctx.authenticated_groups == ["admins", "staff"]
    assert ctx.request.headers.get("X-Authenticated-Groups") == "admins, staff"
