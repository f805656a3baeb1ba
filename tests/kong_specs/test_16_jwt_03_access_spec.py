"""Replay of Kong's jwt access spec (spec/03-plugins/16-jwt/03-access_spec.lua) against the reference gateway.

The spec's ``lazy_setup`` (routes jwt1.test..jwt13.test with their jwt plugin configs, the consumers and
their jwt credentials) is built through our Admin API; each test sends the spec's request and asserts the
spec's status, body and ``WWW-Authenticate``. Key material is generated here (the spec's fixtures.lua keys
are test data only). Not replayed, and why: docs/fidelity/kong-spec-replay.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from tests.kong_specs.cite import MASTER, cannot_run, ports, spec_url
from tests.kong_specs.conftest import Kong

SPEC = spec_url("16-jwt/03-access_spec.lua")
MASTER_SPEC = spec_url("16-jwt/03-access_spec.lua", MASTER)

ROUTE_CONFIGS: dict[int, dict[str, Any]] = {
    1: {},
    2: {"uri_param_names": ["token", "jwt"]},
    3: {"claims_to_verify": ["nbf", "exp"]},
    4: {"key_claim_name": "aud"},
    5: {"secret_is_base64": True},
    6: {"anonymous": "@no-body"},  # filled with the consumer's id
    7: {"anonymous": "@random"},  # an id naming no consumer
    8: {"run_on_preflight": False},
    9: {"cookie_names": ["silly", "crumble"], "realm": "test-jwt"},
    10: {"key_claim_name": "kid"},
    11: {"claims_to_verify": ["nbf", "exp"], "maximum_expiration": 300},
    12: {"header_names": ["CustomAuthorization"]},
    13: {"anonymous": "no-body"},
}


@dataclass
class Cred:
    consumer: str
    key: str
    secret: str
    id: str
    algorithm: str
    private: Any = None  # signing key for asymmetric credentials


@dataclass
class Setup:
    kong: Kong
    creds: dict[str, Cred]
    anonymous_id: str

    def get(self, host: str, path: str = "/request", method: str = "GET", **headers: str) -> httpx.Response:
        return self.kong.proxy.request(method, path, headers={"Host": host, **headers})


def _pem_public(private: Any) -> str:
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return str(pem.decode("ascii"))


ASYMMETRIC: dict[str, tuple[str, Callable[[], PrivateKeyTypes]]] = {
    # consumer username -> (algorithm, key factory)
    "jwt_tests_rsa_consumer_1": ("RS256", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_2": ("RS256", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_5": ("RS512", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_9": ("RS384", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_10": ("ES384", lambda: ec.generate_private_key(ec.SECP384R1())),
    "jwt_tests_rsa_consumer_11": ("ES512", lambda: ec.generate_private_key(ec.SECP521R1())),
    "jwt_tests_rsa_consumer_12": ("PS256", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_13": ("PS384", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_14": ("PS512", lambda: rsa.generate_private_key(65537, 2048)),
    "jwt_tests_rsa_consumer_15": ("EdDSA", ed25519.Ed25519PrivateKey.generate),
    "jwt_tests_rsa_consumer_16": ("EdDSA", ed448.Ed448PrivateKey.generate),
}
SYMMETRIC = {
    "jwt_tests_consumer": "HS256",
    "jwt_tests_consumer_6": "HS256",
    "jwt_tests_base64_consumer": "HS256",
    "jwt_tests_hs_consumer_7": "HS384",
    "jwt_tests_hs_consumer_8": "HS512",
}


cannot_run(SPEC, "gRPC (proxy_client_grpc): the reference gateway has no gRPC listener", 453, 454, 504, 505)
cannot_run(
    SPEC, "the ctx-checker test plugin reads kong.ctx.shared.authenticated_jwt_token", 1188, 1189, 1190
)
cannot_run(SPEC, "jwt with key-auth (logical AND/OR): key-auth is not modelled by the reference gateway",
           *range(1367, 1374), 1385, 1386, 1398, 1399, 1410, 1411, *range(1428, 1435), *range(1446, 1452),
           *range(1463, 1470), *range(1480, 1485))  # fmt: skip


@pytest.fixture(scope="module")
def setup(kong: Kong) -> Setup:
    anonymous = kong.post("/consumers", {"username": "no-body"})
    for i, config in ROUTE_CONFIGS.items():
        route = kong.route(hosts=[f"jwt{i}.test"])
        config = dict(config)
        if config.get("anonymous") == "@no-body":
            config["anonymous"] = anonymous["id"]
        elif config.get("anonymous") == "@random":
            config["anonymous"] = "6a0bd1b4-1e9e-4b55-9b3e-5f1d4b6c2e11"
        kong.post(f"/routes/{route['id']}/plugins", {"name": "jwt", "config": config})
    creds: dict[str, Cred] = {}
    for username, algorithm in SYMMETRIC.items():
        consumer = kong.post("/consumers", {"username": username})
        body = {"algorithm": algorithm} if algorithm != "HS256" else {}
        if algorithm != "HS256":
            body["secret"] = secrets.token_urlsafe(48)
        c = kong.post(f"/consumers/{consumer['id']}/jwt", body)
        creds[username] = Cred(username, c["key"], c["secret"], c["id"], algorithm)
    for username, (algorithm, factory) in ASYMMETRIC.items():
        consumer = kong.post("/consumers", {"username": username})
        private = factory()
        c = kong.post(
            f"/consumers/{consumer['id']}/jwt",
            {"algorithm": algorithm, "rsa_public_key": _pem_public(private)},
        )
        creds[username] = Cred(username, c["key"], c.get("secret") or "", c["id"], algorithm, private)
    return Setup(kong, creds, anonymous["id"])


def payload(**claims: Any) -> dict[str, Any]:
    """The spec's PAYLOAD: nbf and iat now, exp in an hour, plus ``claims``."""
    now = int(time.time())
    return {"nbf": now, "iat": now, "exp": now + 3600, **claims}


def sign(
    claims: dict[str, Any], key: Any, algorithm: str = "HS256", headers: dict[str, Any] | None = None
) -> str:
    return pyjwt.encode(claims, key, algorithm=algorithm, headers=headers)


def upstream_headers(resp: httpx.Response) -> dict[str, str]:
    """The headers the echo upstream received, lower-cased as Kong's spec reads them from its mock."""
    return {k.lower(): v for k, v in resp.json()["headers"].items()}


def hs256_claiming(claims: dict[str, Any], secret: str, header: dict[str, Any]) -> str:
    """An HS256 signature under a header that may claim another alg (pyjwt refuses to write one)."""

    def b64(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(mac)).decode("ascii")


def realm_challenge(kong: Kong, error: str) -> str:
    """Bearer realm="test-jwt" plus an error: space-separated up to 3.10, comma-separated from 3.11
    (the spec at 3.9.0 L610 versus Kong's master, MASTER_SPEC L611)."""
    separator = ", " if kong.version >= (3, 11) else " "
    return f'Bearer realm="test-jwt"{separator}error="{error}"'


pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")  # the spec signs with "foo"

INVALID = 'Bearer error="invalid_token"'


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


# ------------------------------------------------------------------------------ asymmetric algorithms

ASYMMETRIC_CASES = [
    # (spec lines of the "verifies JWT" and "identifies Consumer" blocks, consumer, route host)
    ("RS256", "jwt_tests_rsa_consumer_1", "jwt1.test", (716, 717, 718, 719)),
    ("RS256", "jwt_tests_rsa_consumer_2", "jwt1.test", (733, 734, 735, 736)),
    ("RS256", "jwt_tests_rsa_consumer_2", "jwt5.test", (750, 751, 752, 753)),
    ("RS512", "jwt_tests_rsa_consumer_5", "jwt1.test", (770, 771, 772, 773, 787, 788, 789, 790)),
    ("RS384", "jwt_tests_rsa_consumer_9", "jwt1.test", (807, 808, 809, 810, 824, 825, 826, 827)),
    ("ES512", "jwt_tests_rsa_consumer_11", "jwt1.test", (844, 845, 846, 847, 848, 862, 863, 864, 865, 866)),
    ("ES384", "jwt_tests_rsa_consumer_10", "jwt1.test", (883, 884, 885, 886, 900, 901, 902, 903)),
    ("PS256", "jwt_tests_rsa_consumer_12", "jwt1.test", (920, 921, 922, 923, 924, 938, 939, 940, 941, 942)),
    ("PS384", "jwt_tests_rsa_consumer_13", "jwt1.test", (959, 960, 961, 962, 963, 977, 978, 979, 980, 981)),
    (
        "PS512",
        "jwt_tests_rsa_consumer_14",
        "jwt1.test",
        (998, 999, 1000, 1001, 1002, 1016, 1017, 1018, 1019, 1020),
    ),
    ("EdDSA", "jwt_tests_rsa_consumer_15", "jwt1.test", (1037, 1038, 1039, 1040, 1071, 1072, 1073, 1074)),
    ("EdDSA", "jwt_tests_rsa_consumer_16", "jwt1.test", (1054, 1055, 1056, 1057)),
]


@pytest.mark.parametrize(
    ("alg", "consumer", "host", "lines"),
    ASYMMETRIC_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in ASYMMETRIC_CASES],
)
@ports(SPEC, *sorted({n for case in ASYMMETRIC_CASES for n in case[3]}))
def test_asymmetric_credentials_verify_and_identify_the_consumer(
    setup: Setup, alg: str, consumer: str, host: str, lines: tuple[int, ...]
) -> None:
    cred = setup.creds[consumer]
    authorization = "Bearer " + sign(payload(iss=cred.key), cred.private, alg)
    resp = setup.get(host, Authorization=authorization)
    assert resp.status_code == 200, f"{SPEC}#L{lines[0]}: {resp.text}"
    seen = upstream_headers(resp)
    assert seen["authorization"] == authorization
    assert seen["x-consumer-username"] == consumer
    assert seen["x-credential-identifier"] == cred.key
    assert "x-credential-username" not in seen


@pytest.mark.parametrize(
    ("consumer", "lines"),
    [
        ("jwt_tests_hs_consumer_7", (1091, 1092, 1093, 1094, 1095)),
        ("jwt_tests_hs_consumer_8", (1112, 1113, 1114, 1115, 1116)),
    ],
)
@ports(SPEC, 1091, 1092, 1093, 1094, 1095, 1112, 1113, 1114, 1115, 1116)
def test_hs384_and_hs512_proxy_with_consumer_headers(
    setup: Setup, consumer: str, lines: tuple[int, ...]
) -> None:
    cred = setup.creds[consumer]
    authorization = "Bearer " + sign(payload(iss=cred.key), cred.secret, cred.algorithm)
    resp = setup.get("jwt1.test", Authorization=authorization)
    assert resp.status_code == 200, f"{SPEC}#L{lines[0]}: {resp.text}"
    seen = upstream_headers(resp)
    assert seen["authorization"] == authorization
    assert seen["x-consumer-username"] == consumer
    assert seen["x-credential-identifier"] == cred.key
    assert "x-anonymous-consumer" not in seen


# --------------------------------------------------------------------------------- claims to verify


@ports(SPEC, 1133, 1134, 1135)
def test_checked_claims_must_be_present(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    resp = setup.get("jwt3.test", f"/request/?jwt={sign({'iss': cred.key}, cred.secret)}")
    assert resp.status_code == 401
    assert resp.json() == {"nbf": "must be a number", "exp": "must be a number"}
    assert resp.headers["WWW-Authenticate"] == INVALID


@ports(SPEC, 1151, 1152, 1153)
def test_an_expired_exp_is_refused(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    now = int(time.time())
    token = sign({"iss": cred.key, "exp": now - 10, "nbf": now - 10}, cred.secret)
    resp = setup.get("jwt3.test", f"/request/?jwt={token}")
    assert resp.status_code == 401
    assert resp.text == '{"exp":"token expired"}'
    assert resp.headers["WWW-Authenticate"] == INVALID


@ports(SPEC, 1169, 1170, 1171)
def test_a_future_nbf_is_refused(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    now = int(time.time())
    token = sign({"iss": cred.key, "exp": now + 10, "nbf": now + 5}, cred.secret)
    resp = setup.get("jwt3.test", f"/request/?jwt={token}")
    assert resp.status_code == 401
    assert resp.text == '{"nbf":"token not valid yet"}'
    assert resp.headers["WWW-Authenticate"] == INVALID


# --------------------------------------------------------------------------------- config.anonymous


@ports(SPEC, 1207, 1208, 1209, 1210)
def test_anonymous_with_right_credentials(setup: Setup) -> None:
    cred = setup.creds["jwt_tests_consumer"]
    resp = setup.get("jwt6.test", Authorization="Bearer " + sign(payload(iss=cred.key), cred.secret))
    assert resp.status_code == 200
    seen = upstream_headers(resp)
    assert seen["x-consumer-username"] == "jwt_tests_consumer"
    assert seen["x-credential-identifier"] == cred.key
    assert "x-anonymous-consumer" not in seen


@pytest.mark.parametrize("host", ["jwt6.test", "jwt13.test"], ids=["anonymous-id", "anonymous-username"])
@ports(SPEC, 1220, 1221, 1222, 1223, 1233, 1234, 1235, 1236)
def test_anonymous_without_credentials(setup: Setup, host: str) -> None:
    resp = setup.get(host)
    assert resp.status_code == 200
    seen = upstream_headers(resp)
    assert seen["x-anonymous-consumer"] == "true"
    assert seen["x-consumer-username"] == "no-body"
    assert "x-credential-identifier" not in seen


@ports(SPEC, 1246)
def test_500_when_the_anonymous_consumer_does_not_exist(setup: Setup) -> None:
    resp = setup.get("jwt7.test")
    assert resp.status_code == 500
    if setup.kong.version >= (3, 10):  # the message names the consumer from 3.10 (issue 12, behaviour 7)
        assert "is configured but doesn't exist" in resp.json()["message"]
