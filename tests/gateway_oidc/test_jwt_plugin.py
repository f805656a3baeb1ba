"""The OSS jwt plugin (https://developer.konghq.com/plugins/jwt/)."""

from __future__ import annotations

import base64
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kongformance.gateway.plugins import jwt as jwt_plugin

from .conftest import NOW, Harness, jwt_harness, make_request, rsa_key

SECRET = "a-very-secret-secret-of-64-bytes-for-hs512-signatures-0123456789"


def _harness(**config: Any) -> Harness:
    h = jwt_harness(**config)
    h.runtime.jwt_secrets["issuer-key"] = {
        "id": "jwt-cred-1",
        "key": "issuer-key",
        "secret": SECRET,
        "algorithm": "HS256",
        "consumer": {"id": "c-alice"},
    }
    pem = rsa_key(1).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    h.runtime.jwt_secrets["rsa-key"] = {
        "id": "jwt-cred-2",
        "key": "rsa-key",
        "algorithm": "RS256",
        "rsa_public_key": pem,
        "consumer": {"id": "c-bob"},
    }
    return h


def _token(claims: dict[str, Any] | None = None, *, key: Any = SECRET, alg: str = "HS256") -> str:
    body = {"iss": "issuer-key", "exp": int(NOW) + 60}
    body.update(claims or {})
    return pyjwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg)


def test_accepts_a_valid_hs256_token_and_sets_consumer_headers() -> None:
    """https://developer.konghq.com/plugins/jwt/: the iss claim names the consumer's jwt credential."""
    h = _harness()
    result, ctx = h.send(_token())
    assert result is None
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-alice"
    assert ctx.request.headers.get("X-Consumer-Username") == "alice"
    assert ctx.request.headers.get("X-Credential-Identifier") == "issuer-key"


def test_accepts_an_rs256_token_against_the_credential_public_key() -> None:
    """https://developer.konghq.com/plugins/jwt/: RS* credentials verify with rsa_public_key."""
    h = _harness()
    result, ctx = h.send(_token({"iss": "rsa-key"}, key=rsa_key(1), alg="RS256"))
    assert result is None and ctx.consumer is not None and ctx.consumer["id"] == "c-bob"


def test_missing_token_is_401_unauthorized_with_plain_bearer_challenge() -> None:
    """https://developer.konghq.com/plugins/jwt/: missing token -> 401 {"message":"Unauthorized"}, WWW-Authenticate: Bearer."""
    h = _harness()
    result, _ = h.send(None)
    assert result is not None
    assert result.status == 401
    assert result.body == {"message": "Unauthorized"}
    assert result.headers == {"WWW-Authenticate": "Bearer"}


def test_realm_is_added_to_the_challenge() -> None:
    """https://developer.konghq.com/plugins/jwt/: Bearer realm="<realm>" when realm is set."""
    h = _harness(realm="api")
    assert h.refusal(None).headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("version", "challenge"),
    [
        ((3, 11), 'Bearer realm="api", error="invalid_token"'),
        ((3, 9), 'Bearer realm="api" error="invalid_token"'),
    ],
)
def test_error_challenge_is_comma_separated_from_3_11(version: tuple[int, int], challenge: str) -> None:
    """https://developer.konghq.com/plugins/jwt/: other failures add error="invalid_token", comma-separated since 3.11."""
    h = _harness(kong_version=version, realm="api")
    result, _ = h.send("garbage")
    assert result is not None
    assert result.headers["WWW-Authenticate"] == challenge


def test_error_challenge_without_realm() -> None:
    """https://developer.konghq.com/plugins/jwt/: without realm the challenge is Bearer error="invalid_token" (inferred)."""
    h = _harness()
    assert h.refusal("garbage").headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_bad_token_message() -> None:
    """https://developer.konghq.com/plugins/jwt/: "Bad token; <err>"."""
    h = _harness()
    assert h.refusal("garbage").body == {"message": "Bad token; invalid JSON"}


def test_multiple_tokens_provided() -> None:
    """https://developer.konghq.com/plugins/jwt/: "Multiple tokens provided" when query and header disagree."""
    h = _harness()
    request = make_request(
        query=[("jwt", _token())], headers=[("Authorization", "Bearer " + _token({"x": 1}))]
    )
    result, _ = h.call(request)
    assert (
        result is not None and result.status == 401 and result.body == {"message": "Multiple tokens provided"}
    )


def test_no_mandatory_iss_and_no_credentials_found() -> None:
    """https://developer.konghq.com/plugins/jwt/: "No mandatory 'iss' in claims" / "No credentials found for given 'iss'"."""
    h = _harness()
    assert h.refusal(_token({"iss": None})).body == {"message": "No mandatory 'iss' in claims"}
    assert h.refusal(_token({"iss": "unknown"})).body == {"message": "No credentials found for given 'iss'"}


def test_invalid_algorithm_and_invalid_signature() -> None:
    """https://developer.konghq.com/plugins/jwt/: "Invalid algorithm", "Invalid signature"."""
    h = _harness()
    assert h.refusal(_token(alg="HS512")).body == {"message": "Invalid algorithm"}
    wrong_key = "wrong-secret-wrong-secret-wrong-secret-wrong-secret-wrong-secret!"
    assert h.refusal(_token(key=wrong_key)).body == {"message": "Invalid signature"}


def test_exp_equal_to_now_counts_as_expired() -> None:
    """https://developer.konghq.com/plugins/jwt/: exp <= now is expired here, unlike OIDC; the errors table is the body."""
    h = _harness(claims_to_verify=["exp"])
    result, _ = h.send(_token({"exp": int(NOW)}))
    assert result is not None and result.status == 401 and result.body == {"exp": "token expired"}
    assert h.send(_token({"exp": int(NOW) + 1}))[0] is None


def test_future_nbf_and_missing_claims_to_verify() -> None:
    """https://developer.konghq.com/plugins/jwt/: {"nbf":"token not valid yet"}; a listed claim that is absent must be a number."""
    h = _harness(claims_to_verify=["nbf"])
    assert h.refusal(_token({"nbf": int(NOW) + 10})).body == {"nbf": "token not valid yet"}
    assert h.refusal(_token()).body == {"nbf": "must be a number"}


def test_secret_is_base64() -> None:
    """https://developer.konghq.com/plugins/jwt/ (Jwt.json secret_is_base64): the stored secret is base64 of the signing secret."""
    h = _harness(secret_is_base64=True)
    h.runtime.jwt_secrets["issuer-key"]["secret"] = base64.b64encode(SECRET.encode()).decode()
    assert h.send(_token())[0] is None


def test_anonymous_consumer_on_failure() -> None:
    """https://developer.konghq.com/gateway/authentication/: anonymous maps the anonymous consumer with X-Anonymous-Consumer: true."""
    h = _harness(anonymous="anonymous")
    result, ctx = h.send(None)
    assert result is None
    assert ctx.consumer is not None
    assert ctx.consumer["id"] == "c-anon"
    assert ctx.request.headers.get("X-Anonymous-Consumer") == "true"


def test_jwt_defects_change_behaviour() -> None:
    """Each jwt defect is caught: exp == now accepted, no signature check, space separator on 3.11+."""
    assert {d.name for d in jwt_plugin.DEFECTS} == {
        jwt_plugin.ACCEPT_AT_EXACT_EXPIRY,
        jwt_plugin.SKIP_SIGNATURE_CHECK,
        jwt_plugin.SPACE_SEPARATED_CHALLENGE,
        jwt_plugin.BASE64_DECODES_PUBLIC_KEY,
        jwt_plugin.REFUSES_EDDSA,
        jwt_plugin.GENERIC_MISSING_ANONYMOUS,
        jwt_plugin.MAXIMUM_EXPIRATION_WITHOUT_EXP,
        jwt_plugin.ABSENT_CLAIM_NOT_VERIFIED,
    }
    on = _harness(claims_to_verify=["exp"], defects=(jwt_plugin.ACCEPT_AT_EXACT_EXPIRY,))
    assert on.send(_token({"exp": int(NOW)}))[0] is None
    unsigned = _harness(defects=(jwt_plugin.SKIP_SIGNATURE_CHECK,))
    assert (
        unsigned.send(_token(key="wrong-secret-wrong-secret-wrong-secret-wrong-secret-wrong-secret!"))[0]
        is None
    )
    rs256 = _token({"iss": "rsa-key"}, key=rsa_key(1), alg="RS256")
    assert _harness(secret_is_base64=True).send(rs256)[0] is None
    decoded = _harness(secret_is_base64=True, defects=(jwt_plugin.BASE64_DECODES_PUBLIC_KEY,))
    assert decoded.send(rs256)[0] is not None
    ed = Ed25519PrivateKey.generate()
    for h, accepted in ((_harness(), True), (_harness(defects=(jwt_plugin.REFUSES_EDDSA,)), False)):
        h.runtime.jwt_secrets["ed-key"] = {
            "id": "jwt-cred-3",
            "key": "ed-key",
            "algorithm": "EdDSA",
            "rsa_public_key": ed.public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            .decode(),
            "consumer": {"id": "c-bob"},
        }
        assert (h.send(_token({"iss": "ed-key"}, key=ed, alg="EdDSA"))[0] is None) is accepted
    named = _harness(anonymous="nobody").refusal(None)
    generic = _harness(anonymous="nobody", defects=(jwt_plugin.GENERIC_MISSING_ANONYMOUS,)).refusal(None)
    assert named.body["message"] == "anonymous consumer nobody is configured but doesn't exist"
    assert generic.body == {"message": "An unexpected error occurred"}
    config = {"maximum_expiration": 60, "claims_to_verify": ["nbf"]}
    switches = _harness().runtime.defects
    assert jwt_plugin.JwtPlugin.checks_with_defects(config, switches)
    switches.enable(jwt_plugin.MAXIMUM_EXPIRATION_WITHOUT_EXP)
    assert jwt_plugin.JwtPlugin.checks_with_defects(config, switches) == {}
    absent = _token({"nbf": None})
    assert _harness(claims_to_verify=["nbf"]).send(absent)[0] is not None
    assert (
        _harness(claims_to_verify=["nbf"], defects=(jwt_plugin.ABSENT_CLAIM_NOT_VERIFIED,)).send(absent)[0]
        is None
    )
    spaced = _harness(realm="api", defects=(jwt_plugin.SPACE_SEPARATED_CHALLENGE,))
    assert spaced.refusal("garbage").headers["WWW-Authenticate"] == 'Bearer realm="api" error="invalid_token"'
