"""Issuance at Kong Identity: granted scopes, the four claim modes and templated claims (https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope,
A.5, B.5, B.6, C; RFC 6749 3.3).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from fixtures import jose
from fixtures.evidence import DeviationCheck
from fixtures.tokens import TokenFactory
from hypothesis import given
from hypothesis import strategies as st

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import IssuerResponse
from kongformance.profile import ProfileHandles


# ------------------------------------------------------------------------------------------- scopes
@pytest.mark.requirement("KI-B.5-requested-allowed", "RFC6749-3.3-scope-string")
def test_grants_requested_scopes_the_client_may_use_as_a_space_delimited_list(tokens: TokenFactory) -> None:
    """RFC 6749 3.3; https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient."""
    resp = tokens.response("default", scope="read write")
    assert set(resp.body["scope"].split()) == {"read", "write"}
    assert set(jose.claims_of(resp.access_token)["scope"].split(" ")) == {"read", "write"}


def _never_granted(resp: IssuerResponse, refused: set[str], deviations: DeviationCheck) -> None:
    """The scope is never granted (asserted either way). Whether Kong Identity answers invalid_scope or drops
    the scope silently (RFC 6749 3.3 allows both) no Kong source says: the answer is recorded as *open* for
    RFC6749-5.2-invalid-scope, which a silent drop does not credit."""
    if resp.ok:
        assert not jose.scopes_of(resp.access_token) & refused
        deviations.record_open("RFC6749-5.2-invalid-scope", "issuer: the scope was dropped silently (200)")
    else:
        assert (resp.status, resp.error) == (400, "invalid_scope"), (resp.status, resp.error)


@pytest.mark.requirement("KI-B.5-disabled-scope", "RFC6749-5.2-invalid-scope")
def test_never_grants_a_disabled_scope(tokens: TokenFactory, deviations: DeviationCheck) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope: disabled scopes cannot be requested and never appear in tokens."""
    _never_granted(tokens.response("default", scope="read disabled"), {"disabled"}, deviations)


@pytest.mark.requirement("KI-B.5-disallowed-scope", "RFC6749-5.2-invalid-scope")
@pytest.mark.parametrize("scope", ["admin", "read admin", "kf-unknown-scope"])
def test_never_grants_a_scope_outside_the_clients_allowed_set(
    tokens: TokenFactory, scope: str, deviations: DeviationCheck
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient; RFC 6749 5.2 invalid_scope (error or silent drop: open question 1)."""
    _never_granted(tokens.response("default", scope=scope), {"admin", "kf-unknown-scope"}, deviations)


@pytest.mark.requirement("KI-B.5-default-scope")
def test_grants_a_default_scope_without_it_being_requested(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope and https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: default scopes the client may use are always granted."""
    assert "profile" in jose.scopes_of(tokens.access_token("all_scopes"))
    assert "profile" in jose.scopes_of(tokens.access_token("all_scopes", scope="read"))


@pytest.mark.requirement("KI-B.5-default-scope", "KI-B.5-disallowed-scope")
def test_does_not_grant_a_default_scope_the_client_may_not_use(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerScope: default scopes are granted only if the client may use them."""
    assert "profile" not in jose.scopes_of(tokens.access_token("default", scope="read"))


@pytest.mark.requirement("KI-B.5-allow-all-scopes")
def test_a_client_allowed_all_scopes_may_get_any_enabled_scope(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: allow_all_scopes."""
    assert {"admin", "write"} <= jose.scopes_of(tokens.access_token("all_scopes", scope="admin write"))


# ------------------------------------------------------------------------------------------- claim modes
@pytest.mark.requirement("KI-B.6-claim-always")
@pytest.mark.parametrize("scope", [None, "read", "write"])
def test_includes_an_always_claim_in_every_token(tokens: TokenFactory, scope: str | None) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "always"."""
    assert jose.claims_of(tokens.access_token(scope=scope))["kf_always"] == "always-value"


@pytest.mark.requirement("KI-B.6-claim-for-scope")
@pytest.mark.parametrize(
    ("scope", "present"), [("read", True), ("read write", True), ("write", False), (None, False)]
)
def test_includes_a_scope_bound_claim_only_when_its_scope_is_granted(
    tokens: TokenFactory, scope: str | None, present: bool
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "only for specific scopes"."""
    assert ("kf_read" in jose.claims_of(tokens.access_token(scope=scope))) is present


@pytest.mark.requirement("KI-B.6-claim-no-scope")
@pytest.mark.parametrize(("scope", "present"), [(None, True), ("read", False), ("write", False)])
def test_includes_a_no_scope_claim_only_when_no_scope_was_requested(
    tokens: TokenFactory, scope: str | None, present: bool
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "only when the client requests no scope"."""
    assert ("kf_noscope" in jose.claims_of(tokens.access_token(scope=scope))) is present


@pytest.mark.requirement("KI-B.6-claim-never")
@pytest.mark.parametrize("scope", [None, "read"])
def test_never_puts_a_userinfo_only_claim_in_the_token(tokens: TokenFactory, scope: str | None) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim mode "never in token"."""
    assert "kf_never" not in jose.claims_of(tokens.access_token(scope=scope))


@pytest.mark.requirement("KI-A.5-disabled-claim")
def test_never_includes_a_disabled_claim(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClaim: disabled claims appear in no token."""
    assert "kf_disabled" not in jose.claims_of(tokens.access_token("all_scopes", scope="read write admin"))


# ------------------------------------------------------------------------------------------- templating
@pytest.mark.requirement("KI-C.2-static-claim", "KI-C.5-json-typing")
def test_types_static_claim_values_as_json(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: "42" -> 42, a JSON object stays an object."""
    claims = jose.claims_of(tokens.access_token())
    assert claims["kf_number"] == 42
    assert claims["kf_json"] == {"a": [1, 2], "b": True}


@pytest.mark.requirement("KI-C.3-template-context", "KI-C.8-functions")
def test_renders_templates_against_the_client_and_auth_server(
    tokens: TokenFactory, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-contexts and https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: .Client.Name, upper, concatenation of two actions."""
    claims = jose.claims_of(tokens.access_token("default"))
    client = kf_profile.clients["default"]
    assert claims["kf_tpl_name"] == client.name
    assert claims["kf_tpl_upper"] == client.name.upper()
    assert claims["kf_tpl_concat"] == f"{kf_profile.auth_server.audience}-{client.id}"


@pytest.mark.requirement("KI-C.6-missing-label", "KI-C.3-template-context")
def test_drops_a_claim_whose_template_reads_a_missing_label(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: the claim is absent, the token still issued; a labelled client gets the value."""
    assert "kf_tpl_tier" not in jose.claims_of(tokens.access_token("default"))
    assert jose.claims_of(tokens.access_token("labelled"))["kf_tpl_tier"] == "gold"


@pytest.mark.requirement("KI-C.8-functions")
def test_uuidv4_claim_is_a_fresh_version_4_uuid_per_token(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/: ${ uuidv4 } is a new v4 UUID per token."""
    a, b = (jose.claims_of(tokens.access_token())["kf_tpl_uuid"] for _ in range(2))
    assert a != b
    assert uuid.UUID(a).version == 4 and uuid.UUID(b).version == 4


@pytest.mark.requirement("KI-C.5-json-typing")
def test_to_json_output_becomes_an_array_claim(tokens: TokenFactory) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `... | toJson` producing an array gives an array claim."""
    assert jose.claims_of(tokens.access_token())["kf_tpl_list"] == ["a", "b"]


@pytest.mark.requirement("KI-A.9-test-claim", "KI-C.6-missing-label")
def test_test_claim_renders_templates_and_omits_failing_ones(
    identity_api: IdentityApi, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/testClaimForClient: typed results; a missing label is omitted, not an error."""
    client = kf_profile.clients["default"]
    out = identity_api.test_claim(
        kf_profile.auth_server.id,
        client.id,
        {
            "name": "${ .Client.Name }",
            "n": "7",
            "missing": "${ .Client.Labels.nope }",
            "arr": "${ list 1 2 | toJson }",
        },
    )
    assert out == {"name": client.name, "n": 7, "arr": [1, 2]}


SAFE_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="-_.:/ "),
    min_size=1,
    max_size=40,
)


def _typed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@pytest.mark.requirement("KI-C.2-static-claim", "KI-C.5-json-typing", "KI-A.9-test-claim")
@given(
    value=SAFE_TEXT.filter(
        lambda t: (
            t == t.strip()
            and t.lower() not in ("null", "nan", "infinity", "-infinity")
            and not (t.isdigit() and len(t) > 15)
        )
    )
)
def test_static_claim_values_round_trip_through_test_claim(
    identity_api: IdentityApi, kf_profile: ProfileHandles, value: str
) -> None:
    """https://developer.konghq.com/identity/auth-servers/: text without actions renders verbatim, then JSON-typed (C.5)."""
    out = identity_api.test_claim(kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": value})
    assert out == {"v": _typed(value)}


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@pytest.mark.requirement("KI-C.8-functions", "KI-A.9-test-claim")
@given(x=WORD, y=WORD)
def test_concatenated_actions_render_as_the_concatenation_of_their_parts(
    identity_api: IdentityApi, kf_profile: ProfileHandles, x: str, y: str
) -> None:
    """https://developer.konghq.com/identity/auth-servers/: ${ X }-${ Y } == render(X) + "-" + render(Y)."""
    out = identity_api.test_claim(
        kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": f'${{ "{x}" }}-${{ upper "{y}" }}'}
    )
    assert out == {"v": f"{x}-{y.upper()}"}


@pytest.mark.requirement("KI-C.8-functions", "KI-A.9-test-claim")
@given(n=st.integers(min_value=1, max_value=64))
def test_rand_alpha_num_renders_n_alphanumerics(
    identity_api: IdentityApi, kf_profile: ProfileHandles, n: int
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/: randAlphaNum n has length n (typed as JSON when it happens to be a number)."""
    out = identity_api.test_claim(
        kf_profile.auth_server.id, kf_profile.clients["default"].id, {"v": f"${{ randAlphaNum {n} }}"}
    )
    value = out["v"]
    if isinstance(value, str):
        assert re.fullmatch(r"[A-Za-z0-9]+", value) and len(value) == n, value
    else:  # all digits (or digits with an e) happens, and JSON typing then makes it a number (C.5)
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
