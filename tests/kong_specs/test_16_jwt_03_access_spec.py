"""Replay of Kong's jwt access spec (spec/03-plugins/16-jwt/03-access_spec.lua) against the reference gateway.

The spec's ``lazy_setup`` (routes jwt1.test..jwt13.test with their jwt plugin configs, the consumers and
their jwt credentials) is built through our Admin API; each test sends the spec's request and asserts the
spec's status, body and ``WWW-Authenticate``. Key material is generated here (the spec's fixtures.lua keys
are test data only). Not replayed, and why: docs/fidelity/kong-spec-replay.md.
"""

from __future__ import annotations

import base64
import time

import pytest
from tests.kong_specs.cite import ports
from tests.kong_specs.jwt_access import (
    INVALID,
    SPEC,
    Setup,
    hs256_claiming,
    payload,
    realm_challenge,
    sign,
    upstream_headers,
)

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")  # the spec signs with "foo"


# ------------------------------------------------------------------------------------------- refusals


@ports(SPEC, 303, 304)
def test_401_when_no_jwt_is_found(setup: Setup) -> None:
    resp = setup.get("jwt1.test")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("iss", "message", "lines"),
    [
        (None, "No mandatory 'iss' in claims", (318, 320, 321)),
        ("", "Invalid 'iss' in claims", (335, 337, 338)),
        ("123456789", "No credentials found for given 'iss'", (352, 354, 355)),
    ],
    ids=["no-iss", "empty-iss", "unknown-iss"],
)
@ports(SPEC, 318, 320, 321, 335, 337, 338, 352, 354, 355)
def test_401_when_the_claims_name_no_credential(
    setup: Setup, iss: str | None, message: str, lines: tuple[int, ...]
) -> None:
    claims = payload() if iss is None else payload(iss=iss)
    resp = setup.get("jwt1.test", Authorization="Bearer " + sign(claims, "foo"))
    assert resp.status_code == 401, f"{SPEC}#L{lines[0]}"
    assert resp.json() == {"message": message}, f"{SPEC}#L{lines[1]}"
    assert resp.headers["WWW-Authenticate"] == INVALID, f"{SPEC}#L{lines[2]}"


@ports(SPEC, 369, 371, 372)
def test_401_when_the_signature_is_invalid(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    resp = setup.get("jwt1.test", Authorization="Bearer " + sign(payload(iss=cred.key), "foo"))
    assert resp.status_code == 401
    assert resp.json() == {"message": "Invalid signature"}
    assert resp.headers["WWW-Authenticate"] == INVALID


@ports(SPEC, 386, 388, 389)
def test_401_when_the_alg_does_not_match_the_credential(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = hs256_claiming(payload(iss=cred.key), cred.secret, {"typ": "JWT", "alg": "RS256"})
    resp = setup.get("jwt1.test", Authorization="Bearer " + token)
    assert resp.status_code == 401
    assert resp.json() == {"message": "Invalid algorithm"}
    assert resp.headers["WWW-Authenticate"] == INVALID


@ports(SPEC, 399)
def test_200_on_options_when_run_on_preflight_is_false(setup: Setup) -> None:
    assert setup.get("jwt8.test", method="OPTIONS").status_code == 200


@ports(SPEC, 409, 410, 411)
def test_401_on_options_when_run_on_preflight_is_true(setup: Setup) -> None:
    resp = setup.get("jwt1.test", method="OPTIONS")
    assert resp.status_code == 401
    assert resp.text == '{"message":"Unauthorized"}'
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@ports(SPEC, 427, 428, 429)
def test_401_when_the_token_exceeds_maximum_expiration(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    now = int(time.time())
    token = sign({"iss": cred.key, "exp": now + 3600, "nbf": now - 30}, cred.secret)
    resp = setup.get("jwt11.test", f"/request/?jwt={token}")
    assert resp.status_code == 401
    assert resp.text == '{"exp":"exceeds maximum allowed expiration"}'
    assert resp.headers["WWW-Authenticate"] == INVALID


@ports(SPEC, 445)
def test_accepts_a_token_within_maximum_expiration(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    now = int(time.time())
    token = sign({"iss": cred.key, "exp": now + 270, "nbf": now - 30}, cred.secret)
    assert setup.get("jwt11.test", f"/request/?jwt={token}").status_code == 200


@ports(SPEC, 468, 469, 470)
def test_401_when_multiple_different_tokens_are_found(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    resp = setup.get("jwt1.test", f"/request?jwt={token}", Authorization="Bearer invalid.jwt.token")
    assert resp.status_code == 401
    assert resp.json() == {"message": "Multiple tokens provided"}
    assert resp.headers["WWW-Authenticate"] == INVALID


# ------------------------------------------------------------------------------------------- HS256


@ports(SPEC, 487, 488, 489, 490, 491)
def test_hs256_proxies_with_token_and_consumer_headers(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    authorization = "Bearer " + sign(payload(iss=cred.key), cred.secret)
    resp = setup.get("jwt1.test", Authorization=authorization)
    assert resp.status_code == 200
    seen = upstream_headers(resp)
    assert seen["authorization"] == authorization
    assert seen["x-consumer-username"] == "jwt_tests_consumer"
    assert seen["x-credential-identifier"] == cred.key
    assert "x-anonymous-consumer" not in seen


@ports(SPEC, 520)
def test_hs256_proxies_when_the_key_is_in_the_header_kid(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer_6"]
    token = sign(payload(), cred.secret, "HS256", {"typ": "JWT", "alg": "HS256", "kid": cred.key})
    assert setup.get("jwt10.test", Authorization="Bearer " + token).status_code == 200


@ports(SPEC, 534, 535, 536, 537)
def test_hs256_proxies_when_the_key_is_in_another_claim(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    authorization = "Bearer " + sign(payload(aud=cred.key), cred.secret)
    resp = setup.get("jwt4.test", Authorization=authorization)
    assert resp.status_code == 200
    seen = upstream_headers(resp)
    assert seen["authorization"] == authorization
    assert seen["x-consumer-username"] == "jwt_tests_consumer"
    assert seen["x-credential-identifier"] == cred.key


@ports(SPEC, 553, 565, 566, 567, 568)
def test_hs256_proxies_when_the_secret_is_base64(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_base64_consumer"]
    encoded = base64.b64encode(cred.secret.encode()).decode()
    patched = setup.kong.admin.patch(
        f"/consumers/jwt_tests_base64_consumer/jwt/{cred.id}", json={"key": cred.key, "secret": encoded}
    )
    assert patched.status_code == 200, patched.text
    authorization = "Bearer " + sign(payload(iss=cred.key), cred.secret)
    resp = setup.get("jwt5.test", Authorization=authorization)
    assert resp.status_code == 200
    seen = upstream_headers(resp)
    assert seen["authorization"] == authorization
    assert seen["x-consumer-username"] == "jwt_tests_base64_consumer"
    assert seen["x-credential-identifier"] == cred.key


@pytest.mark.parametrize("cookie", ["crumble", "silly"])
@ports(SPEC, 581, 594)
def test_hs256_finds_the_jwt_in_a_configured_cookie(setup: Setup, cookie: str) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    resp = setup.get("jwt9.test", Cookie=f"{cookie}={token}; path=/;domain=.jwt9.test")
    assert resp.status_code == 200


@ports(SPEC, 607, 609, 610)
def test_401_when_the_cookie_jwt_matches_no_credential(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss="incorrect-issuer"), cred.secret)
    resp = setup.get("jwt9.test", Cookie=f"silly={token}; path=/;domain=.jwt9.test")
    assert resp.status_code == 401
    assert resp.json() == {"message": "No credentials found for given 'iss'"}
    assert resp.headers["WWW-Authenticate"] == realm_challenge(setup.kong, "invalid_token")


@ports(SPEC, 623, 624, 625)
def test_401_when_the_cookie_jwt_is_corrupted(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = "no-way-this-works" + sign(payload(iss=cred.key), cred.secret)
    resp = setup.get("jwt9.test", Cookie=f"silly={token}; path=/;domain=.jwt9.test")
    assert resp.status_code == 401
    assert resp.text == '{"message":"Bad token; invalid JSON"}'
    assert resp.headers["WWW-Authenticate"] == realm_challenge(setup.kong, "invalid_token")


@ports(SPEC, 638)
def test_200_without_cookies_with_the_authorization_header(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    assert setup.get("jwt9.test", Authorization="Bearer " + token).status_code == 200


@ports(SPEC, 648, 649)
def test_401_without_cookies_or_authorization_header(setup: Setup) -> None:
    resp = setup.get("jwt9.test")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="test-jwt"'


@ports(SPEC, 662)
def test_200_with_the_jwt_in_a_custom_header(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    assert setup.get("jwt12.test", CustomAuthorization="Bearer " + token).status_code == 200


@ports(SPEC, 675)
def test_finds_the_jwt_in_the_first_of_duplicated_custom_headers(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    headers = [("Host", "jwt12.test"), ("CustomAuthorization", "Bearer " + token)]
    headers.append(("CustomAuthorization", "Bearer other-token"))
    assert setup.kong.proxy.get("/request", headers=headers).status_code == 200


@pytest.mark.parametrize(("host", "param"), [("jwt1.test", "jwt"), ("jwt2.test", "token")])
@ports(SPEC, 687, 699)
def test_finds_the_jwt_in_url_parameters(setup: Setup, host: str, param: str) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    token = sign(payload(iss=cred.key), cred.secret)
    assert setup.get(host, f"/request/?{param}={token}").status_code == 200
