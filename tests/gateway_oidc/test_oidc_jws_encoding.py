"""How openid-connect decodes JWS segments and treats ``crit``/``b64`` headers, as Kong's library does.

Sources: Kong/kong ``kong/openid-connect/codec.lua`` (``base64url.decode`` is lua-resty-core's
``ngx.base64.decode_base64url``, i.e. nginx's ``ngx_decode_base64url``), ``kong/openid-connect/jws.lua``
(``jws.decode``: no ``crit`` handling; the payload is not decoded when ``b64`` is false) and
``kong/openid-connect/jwa.lua`` (``HS.verify`` compares the encoded MAC with the segment). Recorded in
docs/fidelity/gateway-oidc.md; RFC 7515 2 and 4.1.11 for comparison.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from jwt.algorithms import RSAAlgorithm

from kongformance.gateway.plugins.oidc_verify import b64url_decode, parse_jws

from .conftest import ISSUER, NOW, Harness, b64url, oidc_harness


def _split(token: str) -> tuple[str, str, str]:
    h, p, s = token.split(".")
    return h, p, s


def _token_whose_signature_has_url_safe_characters(h: Harness) -> str:
    """A valid token whose signature contains ``-`` or ``_`` (so a standard-base64 copy differs)."""
    for n in range(20):
        token = h.idp.token({"jti": f"t-{n}"})
        if set(_split(token)[2]) & {"-", "_"}:
            return str(token)
    raise AssertionError("no signature with - or _ in 20 tokens")


def _signed_over_encoded_segments(h: Any, header: dict[str, Any]) -> str:
    """A token signed over ``b64url(header).b64url(claims)`` whatever the header says (as the issuer
    emulator's mint endpoint does), unlike pyjwt, which detaches the payload when ``b64`` is false."""
    claims = {"iss": ISSUER, "sub": "client-1", "exp": int(NOW) + 60}
    full = {"alg": "RS256", "typ": "JWT", "kid": h.idp.kid, **header}
    signing_input = f"{b64url(json.dumps(full).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode(), h.idp.signer)
    return f"{signing_input}.{b64url(signature)}"


def test_decodes_the_url_safe_alphabet_without_padding() -> None:
    """codec.lua base64url.decode (ngx_decode_base64url): '-' and '_' are the 62nd and 63rd digits."""
    raw = bytes(range(256))
    segment = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert b64url_decode(segment) == raw


@pytest.mark.parametrize("segment", ["ab+c", "ab/c", "YWJj ZA", "YWJj\nZA", "YWJjZ", "é"])
def test_refuses_characters_outside_the_url_safe_alphabet_and_impossible_lengths(segment: str) -> None:
    """ngx_decode_base64url: '+', '/', whitespace and non-ASCII are invalid; a length of 1 mod 4 is invalid.
    RFC 7515 2 (base64url alphabet)."""
    with pytest.raises(ValueError):
        b64url_decode(segment)


def test_ignores_padding_and_everything_after_the_first_equals_sign() -> None:
    """ngx_decode_base64url stops at the first '=': padding is tolerated (Kong departs from RFC 7515 2 here)."""
    assert b64url_decode("YWJjZA==") == b"abcd"
    assert b64url_decode("YWJjZA=+/garbage") == b"abcd"


def test_rejects_a_token_whose_signature_is_in_standard_base64() -> None:
    """codec.lua / pkey.lua: the signature segment is base64url-decoded, '+' and '/' make it undecodable.
    the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1); RFC 7515 2."""
    h = oidc_harness()
    token = _token_whose_signature_has_url_safe_characters(h)
    head, payload, sig = _split(token)
    standard = sig.replace("-", "+").replace("_", "/")
    assert h.send(token)[0] is None  # the original verifies
    result, ctx = h.send(f"{head}.{payload}.{standard}")
    assert result is not None and result.status == 401
    assert ctx.consumer is None


def test_accepts_an_rs256_signature_with_base64_padding_as_kong_does() -> None:
    """pkey.verify decodes the signature with ngx_decode_base64url, which ignores '=' padding."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token() + "==")
    assert result is None


def test_rejects_an_hs256_signature_with_padding_although_it_decodes() -> None:
    """jwa.lua HS.verify: ``mac == sig`` compares the encoded MAC with the segment, so '=' padding fails."""
    secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
    h = oidc_harness(client_secret=[secret], enable_hs_signatures=True)
    token = h.idp.token(alg="HS256", key=secret, kid=None)
    assert h.send(token)[0] is None
    result, _ = h.send(token + "==")
    assert result is not None and result.status == 401


def test_parses_a_segment_with_plus_or_slash_as_no_jws_at_all() -> None:
    """jws.lua: a header that cannot be base64url-decoded is not a JWS (``unable to base64url decode``)."""
    h = oidc_harness()
    head, payload, sig = _split(h.idp.token())
    assert parse_jws(f"{head}.{payload}.{sig}") is not None
    assert parse_jws(f"{head}+.{payload}.{sig}") is None
    assert parse_jws(f"{head}.{payload}/.{sig}") is None


def test_accepts_a_validly_signed_token_naming_an_unknown_critical_extension() -> None:
    """jws.lua jws.decode never reads ``crit``: Kong accepts what RFC 7515 4.1.11 says to reject
    (the suites record it as Kong's departure: suites/test_negative_jws.py)."""
    h = oidc_harness()
    token = h.idp.token(headers={"crit": ["kf-unknown"], "kf-unknown": True})
    jws = parse_jws(token)
    assert jws is not None and "crit" in jws.header
    result, _ = h.send(token)
    assert result is None


def test_rejects_a_validly_signed_token_with_b64_false() -> None:
    """jws.lua: with ``b64: false`` the payload is left undecoded and its JSON decode fails (401).
    the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1); RFC 7797 6."""
    h = oidc_harness()
    control = _signed_over_encoded_segments(h, {"crit": ["b64"]})
    assert h.send(control)[0] is None  # the same token without b64:false is accepted
    token = _signed_over_encoded_segments(h, {"b64": False, "crit": ["b64"]})
    result, ctx = h.send(token)
    assert result is not None and result.status == 401
    assert ctx.consumer is None


def test_a_b64_header_that_is_not_the_boolean_false_changes_nothing() -> None:
    """jws.lua tests ``hdr.b64 ~= false``: only JSON false skips the payload decode."""
    h = oidc_harness()
    result, _ = h.send(_signed_over_encoded_segments(h, {"b64": "false"}))
    assert result is None
