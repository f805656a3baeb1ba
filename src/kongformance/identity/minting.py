"""Minting arbitrary JWTs for negative tests (``POST /_emulator/auth-servers/{id}/mint``).

Tokens are signed with an auth server's current or previous key, or with a key no JWKS publishes; the
header may name any ``alg``: ``none`` gives an empty signature, ``HS256/384/512`` use the public key PEM as
the HMAC secret (algorithm-confusion tests). Minted tokens get no TokenRecord.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from kongformance.identity.keys import SIGNING_ALGORITHMS, KeyRegistry, SigningKey, b64url
from kongformance.identity.store import AuthServer, Client

HMAC_ALGORITHMS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
SIGNABLE = (*SIGNING_ALGORITHMS, *HMAC_ALGORITHMS, "none")
KEY_CHOICES = ("current", "previous", "unknown")
DEFAULT_DURATION_SECONDS = 300


class MintError(ValueError):
    """A mint request that cannot be served; ``field`` names the offending input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def choose_key(keys: KeyRegistry, server_id: str, choice: str) -> SigningKey:
    """The key named by ``choice`` (one of :data:`KEY_CHOICES`)."""
    if choice == "unknown":
        return keys.stray_key()
    ring = keys.ring(server_id)
    if choice == "current":
        return ring.current
    if choice == "previous" and ring.previous is not None:
        return ring.previous
    raise MintError("key", "this auth server has no previous key; rotate its keys first")


def default_claims(server: AuthServer, client: Client | None, issuer: str, now: float) -> dict[str, Any]:
    """The registered claims a real token would carry (custom claims and scopes left out)."""
    iat = int(now)
    duration = client.access_token_duration if client is not None else DEFAULT_DURATION_SECONDS
    claims: dict[str, Any] = {
        "aud": [server.audience],
        "exp": iat + duration,
        "iat": iat,
        "iss": issuer,
        "jti": str(uuid.uuid4()),
        "nbf": iat,
        "scope": "",
    }
    if client is not None:
        claims.update(client_id=client.id, sub=client.id)
    return claims


def overlay(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``changes``; a ``null`` value removes the member."""
    out = dict(base)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def sign_compact(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey, sign_as: str) -> str:
    """Encode and sign a JWS with algorithm ``sign_as`` whatever the header says."""
    if sign_as not in SIGNABLE:
        raise MintError("sign_as", f"must be one of {', '.join(SIGNABLE)}")
    segments = [b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)]
    signing_input = ".".join(segments).encode("ascii")
    if sign_as == "none":
        signature = b""
    elif sign_as in HMAC_ALGORITHMS:
        signature = hmac.new(key.public_pem(), signing_input, HMAC_ALGORITHMS[sign_as]).digest()
    else:
        signature = key.sign(signing_input, sign_as)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"
