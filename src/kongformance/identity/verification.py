"""Checks of access tokens presented back to the issuer (introspection, userinfo, revocation).

The result says why a token is not valid (a reason, as data) rather than deciding what to answer, so the
introspection endpoint can apply RFC 7662's ``active:false`` uniformly. Time comes from the Clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt

from kongformance.identity.keys import SIGNING_ALGORITHMS, KeyRegistry, SigningKey
from kongformance.identity.store import IdentityStore, TokenRecord

MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
FOREIGN = "foreign"
REVOKED = "revoked"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"

_NO_TIME_CHECKS: Any = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                   "verify_iss": False}  # fmt: skip


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of checking a token: ``reason`` is None when valid; claims are set once the signature verified."""

    reason: str | None
    claims: dict[str, Any] | None = None
    record: TokenRecord | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None


def _header(token: str) -> dict[str, Any] | None:
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, json.JSONDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _verify(token: str, key: SigningKey, alg: str) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(token, key.private_key.public_key(), algorithms=[alg], options=_NO_TIME_CHECKS)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def check_access_token(
    token: str, server_id: str, issuer_url: str, keys: KeyRegistry, store: IdentityStore, now: float
) -> TokenCheck:
    """Verify signature (a key of any auth server, found by ``kid``), issuer, revocation and time."""
    if token.count(".") != 2 or len(token) > 16_384:
        return TokenCheck(MALFORMED)
    header = _header(token)
    if header is None:
        return TokenCheck(MALFORMED)
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in SIGNING_ALGORITHMS or not isinstance(kid, str):
        return TokenCheck(UNKNOWN_KEY)
    located = keys.find(kid)
    if located is None:
        return TokenCheck(UNKNOWN_KEY)
    owner_id, key = located
    claims = _verify(token, key, alg)
    if claims is None:
        return TokenCheck(BAD_SIGNATURE)
    jti = claims.get("jti")
    record = store.get_token(jti) if isinstance(jti, str) else None
    if owner_id != server_id or claims.get("iss") != issuer_url:
        return TokenCheck(FOREIGN, claims, record)
    if record is not None and record.auth_server_id != server_id:
        return TokenCheck(FOREIGN, claims, record)
    if record is not None and record.revoked:
        return TokenCheck(REVOKED, claims, record)
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or now >= exp:
        return TokenCheck(EXPIRED, claims, record)
    if nbf is not None and (not _is_number(nbf) or nbf > now):
        return TokenCheck(NOT_YET_VALID, claims, record)
    return TokenCheck(None, claims, record)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
