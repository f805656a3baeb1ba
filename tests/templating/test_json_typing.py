"""JSON typing of rendered claim text: https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (rules inferred from Go's json.Unmarshal).

The open cases of C.5 are decided in docs/fidelity/templating.md; each has a test here.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kongformance.identity.templating import render_claim, type_rendered_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("4.2", 4.2),
        ("true", True),
        ("false", False),
        ('{"a":1}', {"a": 1}),
        ("[1,2]", [1, 2]),
        ("abc", "abc"),
        ("[a b]", "[a b]"),  # Go's rendering of a list is not JSON (C.5, S7)
        ("", ""),
    ],
)
def test_types_documented_rendered_text_as_its_json_value(text: str, expected: object) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates likely rules: valid JSON becomes the value, anything else stays a string."""
    value = type_rendered_text(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null", None),  # json.Unmarshal gives nil: the claim is present with value null
        ('"x"', "x"),  # a JSON string literal is unwrapped
        ("007", "007"),  # leading zeros are not JSON: stays a string
        ("1e3", 1000),  # float64 1000, which Go encodes as 1000
        ("1.0", 1),  # float64 1, encoded by Go as 1
        ("9007199254740993", 9007199254740992),  # float64 loses precision above 2^53
        ("1e21", 1e21),  # Go switches to exponent form at 1e21: stays a float
        (" 42 ", 42),  # JSON allows surrounding whitespace
        ("\n[1]\t", [1]),
        ("\u00a042", "\u00a042"),  # NBSP is not JSON whitespace
        ("NaN", "NaN"),  # Python would accept these constants; Go does not
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("42 43", "42 43"),  # trailing data: not one JSON value
        ("+1", "+1"),
        (".5", ".5"),
        ("0x1F", "0x1F"),
        ("True", "True"),
    ],
)
def test_decides_open_typing_cases_as_go_json_unmarshal_does(text: str, expected: object) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates "Unknown" cases and open question 4 (inferred: Go json.Unmarshal)."""
    value = type_rendered_text(text)
    assert value == expected
    assert type(value) is type(expected)


def test_numbers_nested_in_objects_and_arrays_follow_float64_too() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (inferred): interface{} decoding makes every JSON number a float64."""
    assert type_rendered_text('{"a":[1.0,2.5,9007199254740993]}') == {"a": [1, 2.5, 9007199254740992]}
    assert type(type_rendered_text("[1.0]")[0]) is int


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=8,
    )
)
def test_any_json_text_types_back_to_an_equal_value(value: object) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: "Text that is valid JSON becomes the JSON value" (static or rendered)."""
    assert type_rendered_text(json.dumps(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_types_to_the_same_number(number: float) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: "4.2" -> 4.2; integral floats print as integers, as Go encodes them."""
    value = type_rendered_text(repr(number))
    assert isinstance(value, int | float)
    assert value == number or (math.isclose(value, number) and abs(number) >= 1e21)


def test_static_claim_value_is_typed_like_rendered_text() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: typing applies to static values as well as template output (S1)."""
    assert render_claim("42", {}, now=0) == (True, 42)
    assert render_claim('{"tier":"gold"}', {}, now=0) == (True, {"tier": "gold"})
    assert render_claim("plain text", {}, now=0) == (True, "plain text")
