"""The WWW-Authenticate parser of the HTTP oracle (RFC 9110 11.6.1, RFC 6750 3)."""

from __future__ import annotations

import pytest
from fixtures.oracle import ChallengeSyntaxError, parse_www_authenticate


def test_parses_kongs_openid_connect_challenge() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow format."""
    [ch] = parse_www_authenticate(
        'Bearer realm="idp.example", error="invalid_token", error_description="The access token expired"'
    )
    assert ch.scheme == "Bearer"
    assert ch.params == {
        "realm": "idp.example",
        "error": "invalid_token",
        "error_description": "The access token expired",
    }


def test_parses_a_bare_scheme() -> None:
    [ch] = parse_www_authenticate("Bearer")
    assert ch.scheme == "Bearer" and ch.params == {} and ch.error is None


def test_space_separated_params_fail_strict_parsing_but_pass_lenient() -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: oauth2-introspection's space-separated params are not RFC grammar."""
    value = 'Bearer realm="service" error="invalid_token" error_description="The access token is invalid or has expired"'
    with pytest.raises(ChallengeSyntaxError):
        parse_www_authenticate(value)
    [ch] = parse_www_authenticate(value, strict=False)
    assert ch.error == "invalid_token" and ch.params["realm"] == "service"


def test_parses_several_challenges_and_token68() -> None:
    chs = parse_www_authenticate('Basic realm="x", Bearer error="invalid_token", Negotiate abc123==')
    assert [c.scheme for c in chs] == ["Basic", "Bearer", "Negotiate"]
    assert chs[1].error == "invalid_token" and chs[2].token68 == "abc123=="


def test_unescapes_quoted_pairs_and_lowercases_param_names() -> None:
    [ch] = parse_www_authenticate('Bearer Error="a\\"b", REALM=token-value')
    assert ch.params == {"error": 'a"b', "realm": "token-value"}


@pytest.mark.parametrize(
    "value",
    ['Bearer realm="x', 'Bearer realm="x", error=', "Bearer =x", 'Bearer realm="a", realm="b"', "=Bearer"],
)
def test_rejects_malformed_challenges(value: str) -> None:
    with pytest.raises(ChallengeSyntaxError):
        parse_www_authenticate(value)
