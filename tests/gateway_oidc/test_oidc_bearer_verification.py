"""JWT access-token verification of the openid-connect plugin (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .conftest import ISSUER, NOW, b64url, ec_key, oidc_harness, public_jwk, rsa_key, unsigned


def test_accepts_a_valid_rs256_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: a correctly signed Kong Identity-shaped token is proxied."""
    h = oidc_harness()
    result, ctx = h.send(h.idp.token())
    assert result is None
    assert ctx.credential == {"id": "client-1"}


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "dpop+jwt", None])
def test_accepts_typ_jwt_at_jwt_dpop_jwt_or_no_typ(typ: str | None) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: typ, if present, must be JWT, at+jwt or dpop+jwt (case-insensitive)."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token(typ=typ))
    assert result is None


def test_rejects_a_token_whose_typ_is_not_a_jwt_type() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: "only jwts are supported for the jws"."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token(typ="JOSE"))
    assert result is not None and result.status == 401


def test_rejects_alg_none() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: unsigned tokens are never accepted."""
    h = oidc_harness()
    token = unsigned({"alg": "none", "typ": "JWT"}, {"iss": ISSUER, "sub": "x", "exp": int(NOW) + 60})
    result, _ = h.send(token)
    assert result is not None and result.status == 401


def test_rejects_hs256_unless_enable_hs_signatures() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: HS* algorithms are rejected unless enable_hs_signatures=true."""
    secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t"
    h = oidc_harness(client_secret=[secret])
    token = h.idp.token(alg="HS256", key=secret, kid=None)
    result, _ = h.send(token)
    assert result is not None and result.status == 401
    h2 = oidc_harness(client_secret=[secret], enable_hs_signatures=True)
    result2, _ = h2.send(token)
    assert result2 is None


def hs256_with_public_key(claims: dict[str, Any], kid: str = "key-1") -> str:
    """An HS256 token whose HMAC key is the issuer's RSA public key PEM (the algorithm-confusion attack)."""
    pem = rsa_key(1).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    sig = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(sig)}"


def test_rejects_hs256_signed_with_the_issuers_public_key() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the RSA public key is never an HMAC secret (algorithm confusion)."""
    h = oidc_harness()
    result, _ = h.send(hs256_with_public_key({"iss": ISSUER, "sub": "x", "exp": int(NOW) + 60}))
    assert result is not None and result.status == 401


def test_rejects_a_token_with_a_bad_signature() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: bad signature gives 401."""
    h = oidc_harness()
    token = h.idp.token(key=rsa_key(2))
    result, _ = h.send(token)
    assert result is not None and result.status == 401


def test_verifies_es256_tokens_from_an_ec_jwks() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: signatures are verified with the JWKS key named by kid, whatever its type."""
    h = oidc_harness()
    h.idp.keys.append(public_jwk(ec_key(), "ec-1", "ES256"))
    result, _ = h.send(h.idp.token(alg="ES256", key=ec_key(), kid="ec-1"))
    assert result is None


def test_accepts_a_token_at_exactly_exp() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: exp fails only when now - leeway > exp; exp == now is accepted."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token({"exp": int(NOW)}))
    assert result is None


def test_rejects_a_token_one_second_past_exp() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: exp < now is expired (401, no error_description from the verifier)."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token({"exp": int(NOW) - 1}))
    assert result is not None and result.status == 401
    assert "error_description" not in result.headers["WWW-Authenticate"]


def test_leeway_extends_exp() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: with leeway, exp fails only when now - leeway > exp."""
    h = oidc_harness(leeway=10)
    assert h.send(h.idp.token({"exp": int(NOW) - 10}))[0] is None
    result, _ = h.send(h.idp.token({"exp": int(NOW) - 11}))
    assert result is not None and result.status == 401


def test_expiry_follows_the_virtual_clock() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the same token expires when the clock passes exp."""
    h = oidc_harness()
    token = h.idp.token({"exp": int(NOW) + 30})
    assert h.send(token)[0] is None
    h.runtime.clock.advance(30)
    assert h.send(token)[0] is None
    h.runtime.clock.advance(1)
    result, _ = h.send(token)
    assert result is not None and result.status == 401


def test_rejects_a_future_nbf_and_accepts_nbf_within_leeway() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: nbf fails when now + leeway < nbf."""
    h = oidc_harness()
    assert h.send(h.idp.token({"nbf": int(NOW)}))[0] is None
    result, _ = h.send(h.idp.token({"nbf": int(NOW) + 1}))
    assert result is not None and result.status == 401
    h2 = oidc_harness(leeway=5)
    assert h2.send(h2.idp.token({"nbf": int(NOW) + 5}))[0] is None


def test_rejects_a_future_iat() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: iat fails when now + leeway < iat (future iat is rejected)."""
    h = oidc_harness()
    assert h.send(h.idp.token({"iat": int(NOW)}))[0] is None
    result, _ = h.send(h.idp.token({"iat": int(NOW) + 1}))
    assert result is not None and result.status == 401


def test_accepts_a_token_without_exp_nbf_iat_or_iss() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: claims are checked only when present; absence is not an error."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token({"exp": None, "nbf": None, "iat": None, "iss": None}))
    assert result is None


def test_rejects_a_non_numeric_exp() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: an exp that is not a number cannot be checked and fails (inferred)."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token({"exp": "tomorrow"}))
    assert result is not None and result.status == 401


def test_rejects_a_foreign_issuer() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: iss is compared with the discovered issuer."""
    h = oidc_harness()
    result, _ = h.send(h.idp.token({"iss": "https://evil.example.test/auth"}))
    assert result is not None and result.status == 401


@pytest.mark.parametrize("iss", [ISSUER + "/", ISSUER + "/.well-known/openid-configuration"])
def test_issuer_comparison_ignores_trailing_slash_and_well_known_suffix(iss: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: trailing / and well-known suffix are removed before comparing."""
    h = oidc_harness()
    assert h.send(h.idp.token({"iss": iss}))[0] is None


def test_issuers_allowed_adds_accepted_issuers() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: extra accepted iss values come from issuers_allowed."""
    other = "https://other.example.test/auth"
    h = oidc_harness(issuers_allowed=[other, ISSUER])
    assert h.send(h.idp.token({"iss": other}))[0] is None


def test_does_not_check_aud_for_access_tokens() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: aud is NOT checked by the verifier, even with config.audience set."""
    h = oidc_harness(audience=["api://expected"])
    result, _ = h.send(h.idp.token({"aud": ["api://something-else"]}))
    assert result is None


def test_verify_claims_false_still_rejects_expired_tokens_with_a_description() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the second expiry check answers error_description="The access token expired"."""
    h = oidc_harness(verify_claims=False)
    result, _ = h.send(h.idp.token({"exp": int(NOW) - 100}))
    assert result is not None and result.status == 401
    assert 'error_description="The access token expired"' in result.headers["WWW-Authenticate"]


def test_verify_claims_false_skips_the_issuer_check() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: verify_claims=false turns the claim checks off."""
    h = oidc_harness(verify_claims=False)
    assert h.send(h.idp.token({"iss": "https://evil.example.test"}))[0] is None


def test_rejects_an_opaque_token_with_bearer_only() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: malformed/opaque token with bearer only gives 401."""
    h = oidc_harness()
    result, _ = h.send("not-a-jwt")
    assert result is not None and result.status == 401
