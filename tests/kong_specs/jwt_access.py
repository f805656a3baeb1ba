"""The jwt access spec's set-up (spec/03-plugins/16-jwt/03-access_spec.lua ``lazy_setup``) and helpers, shared by
its replay files (test_16_jwt_03_access_spec.py, ..._part2.py): routes jwt1.test..jwt13.test with their jwt
plugin configs, the consumers and their jwt credentials, built through our Admin API. Key material is generated
here (the spec's fixtures.lua keys are test data only).
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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from tests.kong_specs.cite import MASTER, cannot_run, spec_url
from tests.kong_specs.kong import Kong

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


def build(kong: Kong) -> Setup:
    """The spec's lazy_setup: routes jwt1.test..jwt13.test with their jwt plugins, consumers, credentials."""
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


INVALID = 'Bearer error="invalid_token"'
