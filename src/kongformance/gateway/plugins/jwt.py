"""The reference gateway's OSS ``jwt`` plugin, for side-by-side comparison with openid-connect
(https://developer.konghq.com/plugins/jwt/).

Consumers' ``jwt_secrets`` are found through ``runtime.find_credential("jwt_secrets", "key", <key>)`` (the
reference gateway's runtime provides it); without it every token fails with "No credentials found for given 'iss'".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from kongformance.defects import Defect, DefectSwitches
from kongformance.gateway.plugins.base import Exit, Plugin, RequestContext
from kongformance.gateway.plugins.oauth2_request import kong_error
from kongformance.gateway.plugins.oidc_credentials import cookies_of
from kongformance.gateway.plugins.profile_option_defects import switched_on

ACCEPT_AT_EXACT_EXPIRY = "jwt_accept_token_at_exact_expiry"
SKIP_SIGNATURE_CHECK = "jwt_skip_signature_check"
SPACE_SEPARATED_CHALLENGE = "jwt_space_separated_www_authenticate"
BASE64_DECODES_PUBLIC_KEY = "jwt_secret_is_base64_decodes_rsa_public_key"
REFUSES_EDDSA = "jwt_refuses_eddsa"
GENERIC_MISSING_ANONYMOUS = "jwt_missing_anonymous_generic_500"
MAXIMUM_EXPIRATION_WITHOUT_EXP = "jwt_schema_allows_maximum_expiration_without_exp"
ABSENT_CLAIM_NOT_VERIFIED = "jwt_absent_claim_not_verified"
_SPECS = "https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/16-jwt"
# the commit that names a missing anonymous consumer (after 3.9.0, so in 3.10 and later)
ANONYMOUS_FIX = "https://github.com/Kong/kong/commit/35aa60546de8d313c792f32afcb3ec71fd179520"

DEFECTS: tuple[Defect, ...] = (
    Defect(
        ACCEPT_AT_EXACT_EXPIRY,
        "gateway",
        "accepts a token at exp == now (jwt rejects exp <= now)",
        "https://developer.konghq.com/plugins/jwt/",
    ),
    Defect(
        SKIP_SIGNATURE_CHECK,
        "gateway",
        "does not verify the jwt signature",
        "https://developer.konghq.com/plugins/jwt/",
    ),
    Defect(
        SPACE_SEPARATED_CHALLENGE,
        "gateway",
        "separates WWW-Authenticate params with a space on 3.11+ (comma since 3.11)",
        "https://developer.konghq.com/plugins/jwt/",
    ),
    Defect(
        BASE64_DECODES_PUBLIC_KEY,
        "gateway",
        "with secret_is_base64 the RSA/EC public key is base64-decoded too, so RS256 tokens fail (Invalid key/secret)",
        f"{_SPECS}/03-access_spec.lua#L738-L753 (proxies the request if conf.secret is base64)",
    ),
    Defect(
        REFUSES_EDDSA,
        "gateway",
        "EdDSA (Ed25519, Ed448) tokens are refused as 'Bad token; invalid alg'",
        f"{_SPECS}/03-access_spec.lua#L1024-L1058 (EdDSA)",
    ),
    Defect(
        GENERIC_MISSING_ANONYMOUS,
        "gateway",
        "a missing anonymous consumer gives the generic 500 on 3.10+ instead of naming the consumer",
        ANONYMOUS_FIX,
    ),
    Defect(
        MAXIMUM_EXPIRATION_WITHOUT_EXP,
        "gateway",
        "the jwt schema accepts maximum_expiration > 0 with claims_to_verify lacking exp",
        f"{_SPECS}/06-schema_spec.lua#L39-L47",
    ),
    Defect(
        ABSENT_CLAIM_NOT_VERIFIED,
        "gateway",
        "a claim listed in claims_to_verify but absent from the token is not checked (the token passes)",
        f"{_SPECS}/03-access_spec.lua#L1121-L1136 (requires the checked fields to be in the claims)",
    ),
)

_BEARER = re.compile(r"\s*[Bb]earer\s+(.+)")
_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_SUPPORTED = frozenset(
    {
        "HS256",
        "HS384",
        "HS512",
        "RS256",
        "RS384",
        "RS512",
        "ES256",
        "ES384",
        "ES512",
        "PS256",
        "PS384",
        "PS512",
        "EdDSA",
    }
)
UNEXPECTED = {"message": "An unexpected error occurred"}


class _Failure(Exception):
    def __init__(self, body: dict[str, Any], *, with_error: bool = True) -> None:
        super().__init__(str(body))
        self.body = body
        self.with_error = with_error


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class JwtPlugin(Plugin):
    """Kong's OSS jwt plugin: HS*/RS*/ES*/PS* tokens matched to a consumer's jwt credential by a claim."""

    name: ClassVar[str] = "jwt"
    PRIORITY: ClassVar[int] = 1450

    @classmethod
    def checks_with_defects(cls, config: Mapping[str, Any], defects: DefectSwitches) -> dict[str, Any]:
        """The schema's conditional: ``maximum_expiration > 0`` needs ``exp`` in ``claims_to_verify``
        (16-jwt/06-schema_spec.lua@3.9.0 L39-L47), checked whenever an entity is written."""
        maximum = config.get("maximum_expiration") or 0
        claims = config.get("claims_to_verify") or []
        bounded = isinstance(maximum, (int, float)) and maximum > 0
        if bounded and "exp" not in claims and not defects.on(MAXIMUM_EXPIRATION_WITHOUT_EXP):
            return {"config": {"claims_to_verify": "expected to contain: exp"}}
        return {}

    async def access(self, ctx: RequestContext) -> Exit | None:
        config = self.config
        if not config.get("run_on_preflight", True) and ctx.request.method.upper() == "OPTIONS":
            return None
        anonymous = config.get("anonymous")
        if anonymous and ctx.credential is not None:
            return None
        try:
            consumer, credential = self._authenticate(ctx)
        except _Failure as failure:
            if anonymous:
                found = self.runtime.find_consumer(str(anonymous))
                if found is None and switched_on(
                    self.runtime.defects, "option_jwt_anonymous_missing_proxied"
                ):
                    return None
                if found is None:
                    version = self.runtime.kong_version
                    if version < (3, 10) or self.runtime.defects.on(GENERIC_MISSING_ANONYMOUS):
                        return Exit(500, dict(UNEXPECTED))
                    message = f"anonymous consumer {anonymous} is configured but doesn't exist"
                    return kong_error(ctx, version, 500, message)
                self._set_consumer(ctx, found, None)
                return None
            return Exit(401, failure.body, {"WWW-Authenticate": self._challenge(failure.with_error)})
        self._set_consumer(ctx, consumer, credential)
        return None

    def _challenge(self, with_error: bool) -> str:
        realm = self.config.get("realm")
        if switched_on(self.runtime.defects, "option_jwt_realm_ignored"):
            realm = None
        base = f'Bearer realm="{realm}"' if realm else "Bearer"
        if not with_error:
            return base
        comma = self.runtime.kong_version >= (3, 11) and not self.runtime.defects.on(
            SPACE_SEPARATED_CHALLENGE
        )
        separator = ", " if comma and realm else " "
        return f'{base}{separator}error="invalid_token"'

    def _tokens(self, ctx: RequestContext) -> list[str]:
        """Distinct tokens from the query, cookies and headers (Kong's token set)."""
        request = ctx.request
        found: list[str] = []
        for name in self.config.get("uri_param_names") or []:
            found += [v for k, v in request.query if k == name and v]
        cookies = cookies_of(request)
        for name in self.config.get("cookie_names") or []:
            found += [v for k, v in cookies if k == name and v][:1]
        for name in self.config.get("header_names") or []:
            value = request.headers.get(name)
            match = _BEARER.match(value) if value else None
            if match and match.group(1):
                found.append(match.group(1))
        return list(dict.fromkeys(found))

    def _authenticate(self, ctx: RequestContext) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        tokens = self._tokens(ctx)
        if not tokens:
            raise _Failure({"message": "Unauthorized"}, with_error=False)
        if len(tokens) > 1:
            raise _Failure({"message": "Multiple tokens provided"})
        token = tokens[0]
        header, claims, signing_input, signature = self._decode(token)
        key_claim = str(self.config.get("key_claim_name") or "iss")
        key = claims.get(key_claim, header.get(key_claim))
        if key is None:
            raise _Failure({"message": f"No mandatory '{key_claim}' in claims"})
        if key == "":
            raise _Failure({"message": f"Invalid '{key_claim}' in claims"})
        finder: Callable[[str, str, str], Mapping[str, Any] | None] | None = getattr(
            self.runtime, "find_credential", None
        )
        secret = finder("jwt_secrets", "key", str(key)) if callable(finder) else None
        if secret is None:
            raise _Failure({"message": f"No credentials found for given '{key_claim}'"})
        algorithm = str(secret.get("algorithm") or "HS256")
        if header.get("alg") != algorithm:
            raise _Failure({"message": "Invalid algorithm"})
        raw = secret.get("secret") if algorithm.startswith("HS") else secret.get("rsa_public_key")
        material = str(raw).encode() if raw else None
        # only HS* secrets are base64-decoded: a public key is a PEM (Kong #13710, 3.9+)
        decodes = algorithm.startswith("HS") or self.runtime.defects.on(BASE64_DECODES_PUBLIC_KEY)
        if material and self.config.get("secret_is_base64") and decodes:
            try:
                material = _b64url(material.decode().replace("+", "-").replace("/", "_").rstrip("="))
            except (binascii.Error, ValueError):
                material = None
        if not material:
            raise _Failure({"message": "Invalid key/secret"})
        if not self._signature_ok(algorithm, material, signing_input, signature):
            raise _Failure({"message": "Invalid signature"})
        errors = self._claim_errors(claims)
        if errors:
            raise _Failure(errors)
        consumer_ref = secret.get("consumer") or {}
        consumer = self.runtime.find_consumer(str(consumer_ref.get("id"))) if consumer_ref.get("id") else None
        if consumer is None:
            raise _Failure({"message": f"Could not find consumer for '{key_claim}={key}'"})
        return consumer, secret

    def _decode(self, token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
        parts = token.split(".", 2)
        if len(parts) != 3:
            raise _Failure({"message": "Bad token; invalid JSON"})
        try:
            header = json.loads(_b64url(parts[0]))
            claims = json.loads(_b64url(parts[1]))
            signature = _b64url(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise _Failure({"message": "Bad token; invalid JSON"}) from exc
        if (
            not isinstance(header, dict)
            or not isinstance(header.get("alg"), str)
            or header["alg"] not in _SUPPORTED
            or (header["alg"] == "EdDSA" and self.runtime.defects.on(REFUSES_EDDSA))
        ):
            raise _Failure({"message": "Bad token; invalid alg"})
        if not isinstance(claims, dict):
            raise _Failure({"message": "Bad token; invalid claims"})
        return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature

    def _signature_ok(self, algorithm: str, material: bytes, signing_input: bytes, signature: bytes) -> bool:
        if self.runtime.defects.on(SKIP_SIGNATURE_CHECK):
            return True
        digest = _HMAC.get(algorithm)
        if digest is not None:
            expected = hmac.new(material, signing_input, digest).digest()
            return hmac.compare_digest(expected, signature)
        algo = get_default_algorithms().get(algorithm)
        if algo is None:
            return False
        try:
            return bool(algo.verify(signing_input, algo.prepare_key(material), signature))
        except (InvalidKeyError, ValueError, TypeError):
            return False

    def _claim_errors(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        """``claims_to_verify`` and ``maximum_expiration`` errors, keyed by claim (Kong's errors table)."""
        now = self.runtime.clock.now()
        errors: dict[str, Any] = {}
        for name in self.config.get("claims_to_verify") or []:
            if switched_on(self.runtime.defects, f"option_jwt_claims_to_verify_{name}_ignored"):
                continue
            value = claims.get(name)
            if value is None and self.runtime.defects.on(ABSENT_CLAIM_NOT_VERIFIED):
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors[name] = "must be a number"
            elif name == "exp":
                expired = value < now if self.runtime.defects.on(ACCEPT_AT_EXACT_EXPIRY) else value <= now
                if expired:
                    errors[name] = "token expired"
            elif name == "nbf" and value > now:
                errors[name] = "token not valid yet"
        if errors:
            return errors
        maximum = float(self.config.get("maximum_expiration") or 0)
        if maximum > 0:
            exp = claims.get("exp")
            if not isinstance(exp, (int, float)) or exp - now > maximum:
                return {"exp": "exceeds maximum allowed expiration"}
        return {}

    def _set_consumer(
        self, ctx: RequestContext, consumer: Mapping[str, Any], credential: Mapping[str, Any] | None
    ) -> None:
        headers = ctx.request.headers
        for header, field_name in (
            ("X-Consumer-ID", "id"),
            ("X-Consumer-Custom-ID", "custom_id"),
            ("X-Consumer-Username", "username"),
        ):
            value = consumer.get(field_name)
            if value:
                headers.set(header, str(value))
            else:
                headers.remove(header)
        if credential is not None and credential.get("key"):
            headers.set("X-Credential-Identifier", str(credential["key"]))
        else:
            headers.remove("X-Credential-Identifier")
        if credential is None:
            headers.set("X-Anonymous-Consumer", "true")
        else:
            headers.remove("X-Anonymous-Consumer")
        ctx.authenticate(consumer, credential)
