"""Property tests of the documented templating behaviours: https://developer.konghq.com/identity/auth-servers/ (and C.2, C.5, C.6)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.templating.templating_strategies import LABEL_KEYS, contexts

from kongformance.identity.templating import render_claim, render_claims, render_text, type_rendered_text
from kongformance.identity.templating.engine import compile_template

NOW = 1_767_323_045.0
_examples = settings(max_examples=200, deadline=None)

_static_text = st.text(max_size=40).filter(lambda text: "${" not in text)
_simple_actions = st.sampled_from(
    [
        "${ .Client.Name }",
        "${ .Client.ID }",
        "${ .AuthServer.Audience }",
        "${ upper .Client.Name }",
        "${ .Client.GrantTypes }",
        "${ now | unixEpoch }",
        "${ .Client.Name | repeat 2 | quote }",
        "${ .Client.Labels.env }",
        "${ .AuthServer.Description }",
    ]
)


@_examples
@given(_static_text)
def test_static_text_round_trips_then_is_json_typed(text: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/: static text without `${` round-trips exactly (then JSON-typed per C.5)."""
    assert render_text(text, {}, now=NOW) == text
    assert render_claim(text, {}, now=NOW) == (True, type_rendered_text(text))


@_examples
@given(x=_simple_actions, y=_simple_actions, context=contexts)
def test_concatenation_renders_each_part_then_joins(x: str, y: str, context: dict[str, Any]) -> None:
    """https://developer.konghq.com/identity/auth-servers/: `${ X }-${ Y }` == render(X) + "-" + render(Y) (concatenation before typing)."""
    ok_x, _ = render_claim(x, context, now=NOW)
    ok_y, _ = render_claim(y, context, now=NOW)
    ok_xy, value = render_claim(f"{x}-{y}", context, now=NOW)
    assert ok_xy == (ok_x and ok_y)
    if ok_xy:
        joined = render_text(x, context, now=NOW) + "-" + render_text(y, context, now=NOW)
        assert value == type_rendered_text(joined)


@_examples
@given(context=contexts)
def test_uuidv4_is_a_version_4_uuid_and_differs_per_render(context: dict[str, Any]) -> None:
    """https://developer.konghq.com/identity/auth-servers/: `uuidv4` parses as a v4 UUID and differs across tokens."""
    claims = [render_claims({"jti2": "${ uuidv4 }"}, context, now=NOW)["jti2"] for _ in range(3)]
    assert all(uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value for value in claims)
    assert len(set(claims)) == 3


@_examples
@given(length=st.integers(min_value=0, max_value=64))
def test_rand_alpha_num_has_the_requested_length(length: int) -> None:
    """https://developer.konghq.com/identity/auth-servers/: `randAlphaNum n` has length n (alphanumerics only)."""
    text = render_text(f"${{ randAlphaNum {length} }}", {}, now=NOW)
    assert re.fullmatch(f"[A-Za-z0-9]{{{length}}}", text)


@_examples
@given(context=contexts, key=st.sampled_from(LABEL_KEYS[:4]), who=st.sampled_from(["Client", "AuthServer"]))
def test_a_missing_label_means_an_absent_claim(context: dict[str, Any], key: str, who: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/ and https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: missing label => claim absent, even through `default`."""
    template = f'${{ .{who}.Labels.{key} | default "fallback" }}'
    claims = render_claims({"label": template}, context, now=NOW)
    labels = context[who]["Labels"]
    if key in labels:
        assert claims == {"label": type_rendered_text(labels[key])}
    else:
        assert claims == {}


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@_examples
@given(value=_json_values, context=contexts)
def test_to_json_reparses_to_an_equal_value(value: Any, context: dict[str, Any]) -> None:
    """https://developer.konghq.com/identity/auth-servers/: `toJson` of any value re-parses to an equal JSON value in the claim."""
    context = {**context, "Value": value}
    ok, claim = render_claim("${ .Value | toJson }", context, now=NOW)
    assert ok
    assert claim == value
    ok, claim = render_claim("${ .Client | toJson }", context, now=NOW)
    assert ok and claim == json.loads(json.dumps(context["Client"]))


def test_parsed_templates_are_cached_by_their_text() -> None:
    """Token hot path (issue 2): a template is parsed once and reused while it stays in the LRU."""
    source = "${ .Client.ID }-cache-check"
    assert compile_template(source) is compile_template(source)
