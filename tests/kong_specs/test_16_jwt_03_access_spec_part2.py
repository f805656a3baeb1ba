"""Replay of Kong's jwt access spec (spec/03-plugins/16-jwt/03-access_spec.lua), second half: asymmetric
algorithms, claims_to_verify and config.anonymous. Set-up and helpers: tests/kong_specs/jwt_access.py.
"""

from __future__ import annotations

import time

import pytest
from tests.kong_specs.cite import ports
from tests.kong_specs.jwt_access import (
    INVALID,
    SPEC,
    Setup,
    payload,
    sign,
    upstream_headers,
)

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")  # the spec signs with "foo"


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
