"""Malformed requests and IdP answers give Kong's documented statuses, never an unhandled error
(https://developer.konghq.com/plugins/openid-connect/#discovery-cache and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow; issue 3 "Bad input")."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import NOW, FakeIdp, b64url, make_request, oidc_harness

MALFORMED_TOKENS = {
    "oversized": "x" * 20000,
    "three-short-segments": "a.b.c",
    "empty-segments": "..",
    "header-not-an-object": b64url(b"[]") + "." + b64url(b"{}") + ".sig",
    "payload-not-json": b64url(b'{"alg":"RS256","kid":"key-1"}') + "." + b64url(b"not json") + ".",
    "kid-not-a-string": b64url(b'{"alg":"RS256","kid":{"x":1}}') + "." + b64url(b'{"exp":1e400}') + ".AAAA",
    "non-ascii": "\u00e9t\u00e9.\u00e9t\u00e9.\u00e9t\u00e9",
}
"""Parametrized by name: token-shaped values stay out of test ids and recorded parameters, hence reports."""


@pytest.mark.parametrize("shape", sorted(MALFORMED_TOKENS))
def test_malformed_tokens_give_401(shape: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: malformed token with bearer only -> 401."""
    h = oidc_harness()
    result, _ = h.send(MALFORMED_TOKENS[shape])
    assert result is not None and result.status == 401


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("application/json", b"{broken"),
        ("application/json", b"[1,2,3]"),
        ("application/json", b'{"access_token": 5}'),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xff"),
        ("multipart/form-data; boundary=x", b"--x--"),
    ],
)
def test_broken_bodies_are_no_token(ctype: str, body: bytes) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#authentication-flows-and-grants: an unreadable body holds no token -> 401 (no crash)."""
    h = oidc_harness()
    result, _ = h.call(make_request(method="POST", body=body, headers=[("Content-Type", ctype)]))
    assert result is not None and result.status == 401


@pytest.mark.parametrize(
    "keys", [[{"kty": "RSA", "kid": "key-1", "n": "!!", "e": 5}], [{"kid": "key-1"}], ["str"]]
)
def test_garbage_jwks_keys_never_verify(keys: list[Any]) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: a token whose key cannot be loaded does not verify (401)."""
    idp = FakeIdp()
    token = idp.token()
    idp.keys = keys
    h = oidc_harness(idp)
    result, _ = h.send(token)
    assert result is not None and result.status == 401


def test_discovery_answering_404_is_a_500() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: discovery that cannot be loaded gives 500."""
    idp = FakeIdp()
    h = oidc_harness(idp, issuer="http://idp.example.test:9443/nowhere")
    result, _ = h.send(idp.token())
    assert result is not None and result.status == 500


def test_an_unusable_issuer_url_is_a_500() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: an issuer that cannot be fetched gives 500, not an exception."""
    h = oidc_harness(issuer="not a url")
    result, _ = h.send(None)
    assert result is not None and result.status == 500


def test_introspection_answering_a_list_is_a_401() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#introspection-authentication-flow: an introspection answer that is not an object fails authentication."""
    h = oidc_harness(auth_methods=["introspection"], client_id=["c"], client_secret=["s"])
    h.idp.introspection["t"] = ["active"]  # type: ignore[assignment]
    result, _ = h.send("t")
    assert result is not None and result.status == 401


def test_non_numeric_exp_in_introspection_is_treated_as_absent() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the second expiry check uses exp only when it is a number (inferred)."""
    h = oidc_harness(auth_methods=["introspection"], client_id=["c"], client_secret=["s"])
    h.idp.introspection["t"] = {"active": True, "exp": "soon", "iat": int(NOW)}
    assert h.send("t")[0] is None
