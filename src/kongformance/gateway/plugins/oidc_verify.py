"""openid-connect's verification of JWT access tokens (https://developer.konghq.com/plugins/openid-connect/#discovery-cache and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow).

Signatures are checked with pyjwt's JWA algorithm objects against keys from the discovery cache; the
claims ``exp``/``nbf``/``iat``/``iss`` are checked only when present, with Kong's exact boundaries.

Segments are decoded the way Kong's ``kong.openid-connect.codec`` does (nginx's ``ngx_decode_base64url``):
only the URL-safe alphabet, decoding stops at the first ``=``. Like Kong's ``jws.lua``, the ``crit`` header is
not examined, and a ``b64: false`` header leaves the payload undecoded, which fails as a JSON decode error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from kongformance.defects import DefectSwitches
from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins.base import GatewayRuntime
from kongformance.gateway.plugins.oidc_discovery import DiscoveryCache, IssuerMetadata, normalise_issuer
from kongformance.gateway.plugins.oidc_errors import unauthorized
from kongformance.gateway.plugins.profile_option_defects import switched_on

ACCEPTED_TYPES = frozenset({"jwt", "at+jwt", "dpop+jwt"})
_KTY_BY_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CompactJws:
    """A JWS in compact serialisation, split and decoded but not yet verified."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def signature_segment(self) -> str:
        """The third segment exactly as sent (Kong compares HS signatures as encoded strings)."""
        return self.raw.rsplit(".", 1)[-1]


def b64url_decode(segment: str) -> bytes:
    """Decode one JWS segment as Kong does (lua-resty-core ``ngx.base64.decode_base64url``, i.e. nginx's
    ``ngx_decode_base64url``): only ``A-Z a-z 0-9 - _`` are accepted, everything from the first ``=`` on is
    ignored, and a length of 1 (mod 4) is invalid. ``+`` and ``/`` raise :class:`ValueError`."""
    data = segment.split("=", 1)[0]
    if len(data) % 4 == 1 or not _BASE64URL.fullmatch(data):
        raise ValueError("invalid base64url data")
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as Kong's ``codec.base64url.encode`` produces."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_jws(token: str) -> CompactJws | None:
    """Split a compact JWS; ``None`` when ``token`` is not one (an opaque token)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return CompactJws(token, header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def effective_leeway(config: Mapping[str, Any], defects: DefectSwitches) -> float:
    """The configured ``leeway`` in seconds."""
    if defects.on(dx.IGNORE_LEEWAY):
        return 0.0
    leeway = float(config.get("leeway") or 0)
    return 2 * leeway if switched_on(defects, "option_oidc_leeway_doubled") else leeway


def exp_passed(exp: float, now: float, leeway: float, defects: DefectSwitches) -> bool:
    """Kong's expiry rule: expired when ``now - leeway > exp`` (``exp == now`` is still valid)."""
    if defects.on(dx.ACCEPT_EXPIRED_TOKEN):
        return False
    if defects.on(dx.REJECT_AT_EXACT_EXPIRY):
        return now - leeway >= exp
    return now - leeway > exp


def _select_key(keys: list[dict[str, Any]], header: Mapping[str, Any]) -> dict[str, Any] | None:
    kid = header.get("kid")
    if kid is not None:
        return next((k for k in keys if k.get("kid") == kid), None)
    x5t = header.get("x5t")
    if x5t is not None:
        return next((k for k in keys if k.get("x5t") == x5t), None)
    alg = str(header.get("alg") or "")
    usable = [k for k in keys if k.get("use") in (None, "sig")]
    by_alg = next((k for k in usable if k.get("alg") == alg), None)
    if by_alg is not None:
        return by_alg
    kty = _KTY_BY_PREFIX.get(alg[:2])
    return next((k for k in usable if k.get("alg") is None and k.get("kty") == kty), None)


def _verify_with_jwk(alg: str, jwk: Mapping[str, Any], jws: CompactJws) -> bool:
    algorithm = get_default_algorithms().get(alg)
    if algorithm is None:
        return False
    try:
        key = algorithm.from_jwk(dict(jwk))
        return bool(algorithm.verify(jws.signing_input, key, jws.signature))
    except (InvalidKeyError, ValueError, TypeError, KeyError, AttributeError):
        return False  # a malformed JWK or signature never verifies


def _verify_hmac_with_public_key(alg: str, jwk: Mapping[str, Any], jws: CompactJws) -> bool:
    """The classic algorithm-confusion bug: use the RSA public key's PEM as the HMAC secret."""
    rsa = get_default_algorithms()["RS256"]
    try:
        public = rsa.from_jwk(dict(jwk))
    except (InvalidKeyError, ValueError, TypeError, KeyError):
        return False
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}.get(alg)
    if digest is None:
        return False
    return hmac.compare_digest(hmac.new(pem, jws.signing_input, digest).digest(), jws.signature)


class JwtVerifier:
    """Verifies a JWT access token against the issuer's keys and Kong's claim rules."""

    def __init__(self, runtime: GatewayRuntime, config: Mapping[str, Any], discovery: DiscoveryCache) -> None:
        self.runtime = runtime
        self.config = config
        self.discovery = discovery

    async def verify(self, jws: CompactJws, meta: IssuerMetadata) -> dict[str, Any]:
        """The token's claims; raises a 401 :class:`AuthFailure` when it does not verify."""
        typ = jws.header.get("typ")
        if typ is not None and str(typ).lower() not in ACCEPTED_TYPES:
            raise unauthorized("only jwts are supported for the jws")
        if self.config.get("verify_signature", True):
            await self._verify_signature(jws, meta)
        # Kong's jws.lua never reads ``crit`` (an unknown critical extension is accepted), and with
        # ``b64: false`` it skips decoding the payload, so its JSON decode of nothing fails
        if jws.header.get("b64") is False:
            raise unauthorized("invalid bearer token (unable to json decode jws payload)")
        if self.config.get("verify_claims", True):
            self._verify_claims(jws.claims, meta)
        return dict(jws.claims)

    async def _verify_signature(self, jws: CompactJws, meta: IssuerMetadata) -> None:
        alg = str(jws.header.get("alg") or "")
        if alg.lower() == "none" or not alg:
            if self.runtime.defects.on(dx.ACCEPT_ALG_NONE):
                return
            raise unauthorized("invalid bearer token (signature algorithm none is not allowed)")
        if alg.startswith("HS") and not self.config.get("enable_hs_signatures"):
            if self.runtime.defects.on(dx.ACCEPT_HS256_WITH_PUBLIC_KEY):
                key = await self._find_key(jws, meta, rsa_only=True)
                if key is not None and _verify_hmac_with_public_key(alg, key, jws):
                    return
            raise unauthorized("invalid bearer token (hs signatures are disabled)")
        if alg.startswith("HS"):
            if self._verify_hs_with_secrets(alg, jws, meta):
                return
            raise unauthorized("invalid bearer token (invalid signature)")
        key = await self._find_key(jws, meta)
        if key is None:
            raise unauthorized("invalid bearer token (suitable jwk was not found)")
        if not _verify_with_jwk(alg, key, jws):
            raise unauthorized("invalid bearer token (invalid signature)")

    def _verify_hs_with_secrets(self, alg: str, jws: CompactJws, meta: IssuerMetadata) -> bool:
        if b64url_encode(jws.signature) != jws.signature_segment:
            return (
                False  # Kong's HS.verify compares the encoded MAC with the segment: no padding, no variants
            )
        candidates = [k for k in meta.keys if k.get("kty") == "oct"]
        kid = jws.header.get("kid")
        if kid is not None:
            candidates = [k for k in candidates if k.get("kid") == kid]
        for secret in self.config.get("client_secret") or []:
            raw = secret.encode()
            candidates.append({"kty": "oct", "k": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()})
        return any(_verify_with_jwk(alg, k, jws) for k in candidates)

    async def _find_key(
        self, jws: CompactJws, meta: IssuerMetadata, *, rsa_only: bool = False
    ) -> dict[str, Any] | None:
        header: Mapping[str, Any] = jws.header
        if rsa_only and "kid" not in header:
            header = {"alg": "RS256"}
        key = _select_key(meta.keys, header)
        if key is not None:
            return key
        if self.runtime.defects.on(dx.NEVER_REDISCOVER):
            return None
        refreshed = await self.discovery.rediscover()
        if refreshed is None:
            return None
        key = _select_key(refreshed.keys, header)
        if key is None and "kid" in header and self.runtime.defects.on(dx.UNKNOWN_KID_TRIES_OTHER_KEYS):
            return _select_key(refreshed.keys, {"alg": header.get("alg")})
        return key

    def _verify_claims(self, claims: Mapping[str, Any], meta: IssuerMetadata) -> None:
        now = self.runtime.clock.now()
        defects = self.runtime.defects
        leeway = effective_leeway(self.config, defects)
        exp = claims.get("exp")
        if exp is not None:
            if not _is_number(exp):
                raise unauthorized("invalid exp claim was specified for access token")
            if exp_passed(float(exp), now, leeway, defects):
                raise unauthorized("invalid exp claim was specified for access token (token expired)")
        if defects.on(dx.LEEWAY_ONLY_ON_EXP):
            leeway = 0.0
        nbf = claims.get("nbf")
        if nbf is not None:
            if not _is_number(nbf):
                raise unauthorized("invalid nbf claim was specified for access token")
            if now + leeway < float(nbf) and not defects.on(dx.ACCEPT_FUTURE_NBF):
                raise unauthorized("invalid nbf claim was specified for access token (token not valid yet)")
        iat = claims.get("iat")
        if iat is not None:
            if not _is_number(iat):
                raise unauthorized("invalid iat claim was specified for access token")
            if now + leeway < float(iat) and not defects.on(dx.ACCEPT_FUTURE_IAT):
                raise unauthorized("invalid iat claim was specified for access token (issued in the future)")
        iss = claims.get("iss")
        if iss is not None and not defects.on(dx.SKIP_ISSUER_CHECK):
            accepted = {normalise_issuer(meta.issuer)}
            accepted.update(normalise_issuer(str(i)) for i in self.config.get("issuers_allowed") or [])
            if not isinstance(iss, str) or normalise_issuer(iss) not in accepted:
                raise unauthorized("invalid iss claim was specified for access token")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
