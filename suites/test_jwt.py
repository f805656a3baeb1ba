"""The OSS jwt plugin (https://developer.konghq.com/plugins/jwt/): RS256 tokens verified against a consumer's jwt credential.

The profile gives the jwt route a consumer whose credential ``key`` is the token's ``iss`` and whose
``rsa_public_key`` belongs to a key pair the profile generated (handles.jwt), with claims_to_verify exp, nbf.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from fixtures import jose
from fixtures.evidence import DeviationCheck
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import OIDC_UNAUTHORIZED, assert_refused
from fixtures.timing import ClockControl

from kongformance.profile import ProfileHandles
from kongformance.targets import Stack

FLOW = "jwt"
ROUTE = "jwt"


@pytest.fixture
def sign(kf_profile: ProfileHandles, kf_stack: Stack) -> Callable[..., str]:
    """Signs claims with the jwt credential's private key; ``iss`` defaults to the credential key."""
    if kf_profile.jwt is None:
        pytest.skip("the profile has no jwt credential")
    key = kf_profile.jwt

    def _sign(now: int, **claims: Any) -> str:
        body: dict[str, Any] = {"iss": key.key, "sub": "kf", "iat": now, "nbf": now, "exp": now + 60}
        for k, v in claims.items():
            if v is None:
                body.pop(k, None)
            else:
                body[k] = v
        return pyjwt.encode(body, key.private_pem, algorithm="RS256")

    return _sign


@pytest.fixture
def now(kf_stack: Stack) -> int:
    """The gateway's notion of now (virtual clock locally)."""
    import httpx

    if kf_stack.virtual_clock:
        return int(httpx.get(kf_stack.admin_url + "/_emulator/clock").json()["now"])
    return int(time.time())


KONG_JWT_SPEC = "https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/16-jwt/03-access_spec.lua"


def assert_jwt_401(result: ProxyResult, upstream: Upstream, body: dict[str, str] | None = None) -> None:
    """Kong/kong kong/plugins/jwt/handler.lua (3.9.0): failures other than a missing token carry
    error="invalid_token"; ``body``, when given, is the exact JSON Kong's spec asserts (KONG_JWT_SPEC)."""
    assert_refused(result, upstream, status=401, error="invalid_token")
    if body is not None:
        assert result.json() == body, f"{KONG_JWT_SPEC}: {body!r}, got {result.response.text[:200]!r}"


@pytest.mark.requirement("KONG-JWT-5-verification")
def test_accepts_a_token_signed_by_the_credentials_key(
    proxy: Proxy, upstream: Upstream, sign: Any, now: int
) -> None:
    """https://developer.konghq.com/plugins/jwt/: iss selects the credential; the RS256 signature verifies with its public key."""
    result = proxy.request(ROUTE, token=sign(now))
    assert result.status == 200, result.response.text[:200]
    upstream.assert_reached_once(result)


@pytest.mark.requirement(
    "KONG-JWT-5-missing", "RFC6750-3-no-credentials", "RFC6750-3.1-no-error-without-token"
)
def test_refuses_a_request_without_a_token_with_a_bare_challenge(
    proxy: Proxy, upstream: Upstream, deviations: DeviationCheck
) -> None:
    """https://developer.konghq.com/plugins/jwt/: 401 {"message":"Unauthorized"} with WWW-Authenticate: Bearer; RFC 6750 3.1 (no error)."""
    result = proxy.request(ROUTE)
    ch = assert_refused(result, upstream, status=401, error=None)
    assert result.json() == OIDC_UNAUTHORIZED
    assert ch is not None and ch.params.get("realm") == "kongformance"
    deviations.check("RFC6750-3.1-no-error-without-token", ch.error is None, f"params {ch.params}", flow=FLOW)


@pytest.mark.requirement("KONG-JWT-5-verification", "RFC7515-5.2-signature", "RFC6750-3.1-invalid-token")
@pytest.mark.parametrize("case", ["flipped-signature", "edited-payload", "empty-signature", "alg-none"])
def test_refuses_a_tampered_or_unsigned_token(
    proxy: Proxy, upstream: Upstream, sign: Any, now: int, case: str
) -> None:
    """https://developer.konghq.com/plugins/jwt/ ("Invalid signature", "Invalid algorithm"); RFC 7515 5.2; RFC 8725 3.2."""
    token = sign(now)
    forged = {
        "flipped-signature": jose.flip_signature_bit(token),
        "edited-payload": jose.with_payload(token, sub="admin"),
        "empty-signature": token.rsplit(".", 1)[0] + ".",
        "alg-none": jose.unsigned(jose.payload_of(token)),
    }[case]
    assert_jwt_401(proxy.request(ROUTE, token=forged), upstream)


@pytest.mark.requirement("KONG-JWT-5-verification")
def test_refuses_a_token_whose_iss_names_no_credential(
    proxy: Proxy, upstream: Upstream, sign: Any, now: int
) -> None:
    """Kong's spec (KONG_JWT_SPEC, "iss does not match a credential"): 401 {"message": "No credentials found for
    given 'iss'"}."""
    body = {"message": "No credentials found for given 'iss'"}
    assert_jwt_401(proxy.request(ROUTE, token=sign(now, iss="kf-nobody")), upstream, body)


@pytest.mark.requirement("KONG-JWT-5-verification", "RFC7519-4.1.4-exp", "RFC7519-4.1.5-nbf")
@pytest.mark.parametrize("claims", [{"exp": -10}, {"nbf": 120, "exp": 180}])
def test_refuses_an_expired_or_not_yet_valid_token(
    proxy: Proxy, upstream: Upstream, sign: Any, now: int, claims: dict[str, int]
) -> None:
    """Kong's spec (KONG_JWT_SPEC, claims_to_verify): {"exp":"token expired"} / {"nbf":"token not valid yet"}."""
    relative = {k: now + v for k, v in claims.items()}
    result = proxy.request(
        ROUTE, token=sign(now - 200 if "exp" in claims and claims["exp"] < 0 else now, **relative)
    )
    body = {"nbf": "token not valid yet"} if "nbf" in claims else {"exp": "token expired"}
    assert_jwt_401(result, upstream, body)


@pytest.mark.requirement("KONG-JWT-5-verification", "RFC7519-4.1.4-exp")
@pytest.mark.needs("virtual_clock")
def test_treats_a_token_as_expired_at_the_exact_second_of_its_exp(
    proxy: Proxy, upstream: Upstream, sign: Any, clock: ClockControl
) -> None:
    """https://developer.konghq.com/plugins/jwt/: for the jwt plugin exp <= now counts as expired (unlike openid-connect)."""
    exp = int(clock.now()) + 30
    token = sign(exp - 60, exp=exp)
    clock.freeze(float(exp - 1))
    assert proxy.request(ROUTE, token=token).status == 200
    clock.advance(1)
    assert_jwt_401(proxy.request(ROUTE, token=token), upstream)


@pytest.mark.requirement("RFC6750-3-challenge-syntax")
def test_challenge_follows_the_rfc6750_grammar(
    proxy: Proxy, sign: Any, now: int, deviations: DeviationCheck
) -> None:
    """RFC 6750 3; https://developer.konghq.com/plugins/jwt/: comma-separated since 3.11 (space-separated before: recorded deviation).

    The profile sets realm so the challenge has two auth-params (realm, error)."""
    result = proxy.request(ROUTE, token=jose.flip_signature_bit(sign(now)))
    deviations.check_challenge_syntax(result, flow=FLOW)
