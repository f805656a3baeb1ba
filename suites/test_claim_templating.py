"""Claim templating properties (hypothesis): test-claim, real token issuance, and claim to upstream header.

https://developer.konghq.com/identity/auth-servers/ (templating: C.2 syntax, C.5 JSON typing, C.6 missing data, C.8 examples, C.9 property ideas) and
A.9 (test-claim); https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header (openid-connect claim headers) and 3.5 (oauth2-introspection
custom_claims_forward). Claims are created per example with unique names, tied to a scope this module creates, so
only tokens that request that scope carry them (other tests never see them), and deleted afterwards. Example counts
come from the active hypothesis profile (dev / ci / nightly).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from fixtures import jose
from fixtures.http import Proxy, ProxyResult, Upstream
from hypothesis import given
from hypothesis import strategies as st

from kongformance.clients.identity_api import IdentityApi
from kongformance.clients.issuer import IssuerClient
from kongformance.profile import ProfileHandles
from kongformance.targets.setup import RunState

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
LABELS = {"tier": "gold", "region": "eu-west"}
FORWARDED = "kf_prop"  # the claim the claim-header routes forward (profile: oidc-bearer-claim-headers, ...)
FORWARDED_OBJECT = "kf_prop_obj"


@dataclass
class Templating:
    """A scope and a labelled client of this module, and ways to render templates through Kong Identity."""

    api: IdentityApi
    issuer: IssuerClient
    server_id: str
    scope_id: str
    scope_name: str
    client_id: str
    client_secret: str

    def test_claim(self, templates: Mapping[str, str]) -> dict[str, Any]:
        """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/testClaimForClient: the rendered, typed values (failing entries omitted)."""
        return self.api.test_claim(self.server_id, self.client_id, templates)

    def issue(self, templates: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
        """A real token carrying ``templates`` as claims (created for this call only): (token, its claims)."""
        created: list[str] = []
        try:
            for name, value in templates.items():
                claim = self.api.create_claim(
                    self.server_id,
                    name,
                    value,
                    include_in_token=True,
                    include_in_all_scopes=False,
                    include_in_scopes=[self.scope_id],
                )
                created.append(claim["id"])
            resp = self.issuer.token(self.client_id, self.client_secret, scope=self.scope_name)
            assert resp.status == 200, resp.text
            token = resp.access_token
            return token, jose.claims_of(token)
        finally:
            for claim_id in created:
                self.api.call(
                    "DELETE", f"/auth-servers/{self.server_id}/claims/{claim_id}", expect=(204, 404)
                )


@pytest.fixture(scope="module")
def templating(
    identity_api: IdentityApi, issuer: IssuerClient, kf_profile: ProfileHandles
) -> Iterator[Templating]:
    sid = kf_profile.auth_server.id
    suffix = secrets.token_hex(4)
    scope = identity_api.create_scope(sid, f"kf-tpl-{suffix}")
    client = identity_api.create_client(
        sid, f"kf-tpl-client-{suffix}", allow_scopes=[scope["id"]], labels=LABELS, access_token_duration=60
    )
    yield Templating(
        identity_api, issuer, sid, scope["id"], scope["name"], client["id"], client["client_secret"]
    )
    identity_api.delete_client(sid, client["id"])
    identity_api.call("DELETE", f"/auth-servers/{sid}/scopes/{scope['id']}", expect=(204, 404))


@pytest.fixture
def forwarded_claims(kf_state: RunState) -> Iterator[None]:
    """The claim-header routes forward fixed claim names (kf_prop, kf_prop_obj), and claim names are unique per
    auth server: tests that create them take turns (a file lock across the run's workers)."""
    with open(os.path.join(kf_state.lock_dir, "forwarded-claims.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def claim_name() -> str:
    return f"kf_tpl_{secrets.token_hex(4)}"


def typed(text: str) -> Any:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: text that is valid JSON becomes that JSON value, anything else stays a string."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError:
        return text


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# ------------------------------------------------------------------------------------------- strategies
# Plain text without template actions. Left out on purpose: '$' (could open an action), surrounding whitespace,
# and texts whose JSON typing C.5 leaves open ("null", quoted strings, big integers, exponents, leading zeros).
PLAIN = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lu", "Ll", "Nd", "Zs", "Pd", "Po"),
        blacklist_characters='$"\\{}[]',
    ),
    min_size=1,
    max_size=40,
).filter(
    lambda t: t == t.strip() and not re.fullmatch(r"[-+0-9.eE]+|null|true|false", t, flags=re.IGNORECASE)
)
SAFE_INT = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
JSON_SCALAR = st.one_of(st.booleans(), SAFE_INT, PLAIN)
JSON_DOC = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=4),
    ),
    max_leaves=8,
)
TYPED_VALUE = st.one_of(
    st.booleans(),
    SAFE_INT,
    st.lists(JSON_DOC, max_size=4),
    st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), JSON_DOC, max_size=4),
)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
LABEL_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(lambda k: k not in LABELS)


# ------------------------------------------------------------------------------------------- static values and typing
@pytest.mark.requirement("KI-C.2-static-claim", "KI-C.5-json-typing", "KI-A.9-test-claim")
@given(text=PLAIN)
def test_static_text_round_trips_through_test_claim_and_token_issuance(
    templating: Templating, text: str
) -> None:
    """https://developer.konghq.com/identity/auth-servers/ and https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: text without actions renders verbatim, then JSON-typed."""
    name = claim_name()
    assert templating.test_claim({name: text}) == {name: typed(text)}
    _, claims = templating.issue({name: text})
    assert claims.get(name) == typed(text)


@pytest.mark.requirement("KI-C.5-json-typing", "KI-A.9-test-claim")
@given(value=TYPED_VALUE)
def test_json_text_becomes_the_json_value_in_test_claim_and_in_the_token(
    templating: Templating, value: Any
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: numbers, booleans, objects and arrays are typed from the rendered text."""
    name = claim_name()
    text = json.dumps(value)
    assert templating.test_claim({name: text}) == {name: value}
    _, claims = templating.issue({name: text})
    assert claims.get(name) == value


@pytest.mark.requirement("KI-C.5-json-typing", "KI-C.8-functions")
@given(value=TYPED_VALUE)
def test_to_json_output_of_a_template_is_typed_like_static_json(templating: Templating, value: Any) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (``fromJson``/``toJson`` round trip gives the same JSON value)."""
    name = claim_name()
    literal = json.dumps(json.dumps(value))  # a Go string literal is a JSON string literal here
    assert templating.test_claim({name: f"${{ {literal} | fromJson | toJson }}"}) == {name: value}


# ------------------------------------------------------------------------------------------- concatenation
@pytest.mark.requirement("KI-C.8-functions", "KI-C.3-template-context", "KI-A.9-test-claim")
@given(x=WORD, y=WORD)
def test_concatenated_actions_render_as_the_concatenation_of_their_parts(
    templating: Templating, x: str, y: str
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/: ``${ X }-${ Y }`` == render(X) + "-" + render(Y), in test-claim and token."""
    name = claim_name()
    template = f'${{ "{x}" }}-${{ upper "{y}" }}:${{ .Client.Labels.tier }}'
    expected = f"{x}-{y.upper()}:{LABELS['tier']}"
    assert templating.test_claim({name: template}) == {name: expected}
    _, claims = templating.issue({name: template})
    assert claims.get(name) == expected


@pytest.mark.requirement("KI-C.3-template-context", "KI-C.8-functions")
def test_the_documented_audience_client_concatenation_renders_from_the_context(
    templating: Templating, kf_profile: ProfileHandles
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: ``${ .AuthServer.Audience }-${ .Client.ID }``."""
    name = claim_name()
    _, claims = templating.issue({name: "${ .AuthServer.Audience }-${ .Client.ID }"})
    assert claims.get(name) == f"{kf_profile.auth_server.audience}-{templating.client_id}"


# ------------------------------------------------------------------------------------------- uuidv4 / randAlphaNum
@pytest.mark.requirement("KI-C.8-functions")
def test_uuidv4_renders_a_fresh_version_4_uuid_per_token(templating: Templating) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/: a v4 UUID, different in every token."""
    name = claim_name()
    first = templating.test_claim({name: "${ uuidv4 }"})[name]
    _, a = templating.issue({name: "${ uuidv4 }"})
    _, b = templating.issue({name: "${ uuidv4 }"})
    for value in (first, a.get(name), b.get(name)):
        assert isinstance(value, str) and UUID_V4.match(value), value
    assert a[name] != b[name]


@pytest.mark.requirement("KI-C.8-functions")
@given(n=st.integers(min_value=1, max_value=64))
def test_rand_alpha_num_n_renders_n_alphanumerics_in_the_token(templating: Templating, n: int) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/: length n; an all-digit result is JSON-typed as a number (C.5)."""
    name = claim_name()
    _, claims = templating.issue({name: f"${{ randAlphaNum {n} }}"})
    value = claims.get(name)
    if isinstance(value, str):
        assert re.fullmatch(r"[A-Za-z0-9]+", value) and len(value) == n, value
    else:
        assert isinstance(value, int | float) and not isinstance(value, bool), value


# ------------------------------------------------------------------------------------------- missing data
@pytest.mark.requirement("KI-C.6-missing-label", "KI-A.9-test-claim")
@given(key=LABEL_KEY, fallback=WORD)
def test_a_missing_label_leaves_the_claim_out_even_with_default(
    templating: Templating, key: str, fallback: str
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: missingkey=error omits the claim; ``default`` does not rescue a missing key."""
    missing, defaulted, present = claim_name(), claim_name(), claim_name()
    templates = {
        missing: f"${{ .Client.Labels.{key} }}",
        defaulted: f'${{ .Client.Labels.{key} | default "{fallback}" }}',
        present: "${ .Client.Labels.region }",
    }
    assert templating.test_claim(templates) == {present: LABELS["region"]}
    _, claims = templating.issue(templates)
    assert missing not in claims and defaulted not in claims
    assert claims.get(present) == LABELS["region"]


# ------------------------------------------------------------------------------------------- claim -> upstream header
def _header_value(result: ProxyResult, name: str) -> str | None:
    """The header as the upstream got it; the echo reads header bytes as latin-1, Kong sends claim text as UTF-8."""
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    value = result.upstream_header(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _b64_json(value: str) -> Any:
    return json.loads(base64.b64decode(value + "=" * (-len(value) % 4)))


@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers", "KI-C.5-json-typing")
@given(
    value=st.one_of(
        PLAIN,
        SAFE_INT,
        st.booleans(),
        st.lists(JSON_DOC, min_size=1, max_size=3),
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), JSON_DOC, min_size=1, max_size=3
        ),
    )
)
def test_openid_connect_forwards_a_templated_claim_as_an_upstream_header(
    forwarded_claims: None, templating: Templating, proxy: Proxy, upstream: Upstream, value: Any
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header: strings as-is, numbers and booleans as strings, tables base64-encoded JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    token, claims = templating.issue({FORWARDED: text})
    assert claims.get(FORWARDED) == value
    header = _header_value(proxy.request("oidc-bearer-claim-headers", token=token), "X-KF-Prop")
    assert header is not None, "the claim was not forwarded"
    if isinstance(value, bool):
        assert header == ("true" if value else "false")
    elif isinstance(value, int):
        assert header == str(value)
    elif isinstance(value, str):
        assert header == value
    else:
        assert _b64_json(header) == value


@pytest.mark.requirement("KONG-OIDC-1.9-upstream-headers", "KI-C.6-missing-label")
@given(inner=PLAIN, key=LABEL_KEY)
def test_openid_connect_follows_nested_claim_paths_and_skips_missing_claims(
    forwarded_claims: None, templating: Templating, proxy: Proxy, upstream: Upstream, inner: str, key: str
) -> None:
    """https://developer.konghq.com/plugins/openid-connect/reference/#schema--config-upstream-access-token-header (``upstream_headers`` paths, 3.14+; a missing claim gives no header); C.6."""
    token, claims = templating.issue(
        {FORWARDED_OBJECT: json.dumps({"inner": inner}), FORWARDED: f"${{ .Client.Labels.{key} }}"}
    )
    assert FORWARDED not in claims
    result = proxy.request("oidc-bearer-claim-headers", token=token, headers={"X-KF-Prop": "forged"})
    assert _header_value(result, "X-KF-Prop-Inner") == inner
    assert _header_value(result, "X-KF-Prop") is None


@pytest.mark.requirement("KONG-INTRO-3.5-headers", "KI-C.8-functions")
@given(x=WORD, y=PLAIN)
def test_oauth2_introspection_forwards_a_templated_claim_as_x_credential(
    forwarded_claims: None, templating: Templating, proxy: Proxy, upstream: Upstream, x: str, y: str
) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#upstream-headers: custom_claims_forward [kf_prop] gives X-Credential-Kf-Prop with the claim's value."""
    template = f'${{ upper "{x}" }} {y}'
    token, claims = templating.issue({FORWARDED: template})
    expected = f"{x.upper()} {y}"
    assert claims.get(FORWARDED) == typed(expected)
    header = _header_value(proxy.request("oauth2-introspection-claims", token=token), "X-Credential-Kf-Prop")
    assert header == expected


@pytest.mark.requirement("KI-C.4-sprig-case-go")
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('${ upper "straße ﬁnal ǆ ς" }', "STRAßE ﬁNAL Ǆ Σ"),
        ('${ lower "İSTANBUL ẞ Ǆ ΣΑΣ" }', "istanbul ß ǆ σασ"),
    ],
)
def test_upper_and_lower_map_non_ascii_text_rune_by_rune_as_go_does(
    templating: Templating, template: str, expected: str
) -> None:
    """Sprig's upper/lower are Go's strings.ToUpper/ToLower (https://masterminds.github.io/sprig/strings.html,
    https://pkg.go.dev/strings#ToUpper): one rune to one rune, so ß and the ﬁ ligature stay, İ lowers to i and
    a final Σ lowers to σ. The value is read from a real token."""
    name = claim_name()
    _, claims = templating.issue({name: template})
    assert claims.get(name) == expected
