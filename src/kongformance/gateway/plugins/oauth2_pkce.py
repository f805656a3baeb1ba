"""The OSS oauth2 plugin's PKCE rules (RFC 7636): Kong's ``retrieve_code_challenge``, ``requires_pkce`` and
``validate_pkce_verifier`` (https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/access.lua), shared by
``/oauth2/authorize`` (:mod:`.oauth2_authorize`) and the token endpoint (:mod:`.oauth2_token_endpoint`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from kongformance.gateway.plugins.oauth2_store import AuthorizationCode

_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _b64url_normalise(challenge: str) -> str:
    """Kong's ``base64url_decode`` then ``base64url_encode`` of a challenge (access.lua@3.9.0 L61-90):
    ``-``/``_`` become ``+``/``/``, nginx's decoder reads up to the first ``=`` (so padding is optional) and
    refuses other characters or a length of 1 mod 4; a decodable challenge is re-encoded as *unpadded*
    base64 with ``-``/``_`` (``ngx.encode_base64(value, true)``), an undecodable one is kept as sent."""
    text = challenge.replace("-", "+").replace("_", "/").split("=", 1)[0]
    if len(text) % 4 == 1 or not set(text) <= _BASE64_ALPHABET:
        return challenge
    raw = base64.b64decode(text + "=" * (-len(text) % 4))
    return base64.b64encode(raw).decode().rstrip("=").replace("+", "-").replace("/", "_")


def retrieve_code_challenge(params: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(challenge, error, method): S256 only (``s256`` tolerated), the method defaults to S256."""
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if method is not None and challenge is None:
        return None, "code_challenge is required when code_method is present", None
    if challenge is not None:
        challenge = _b64url_normalise(str(challenge))
        if method is not None and method != "S256":
            if method != "s256":
                return None, "code_challenge_method is not supported, must be S256", None
            method = "S256"
    return challenge, None, str(method) if method is not None else "S256"


def requires_pkce(conf: Mapping[str, Any], client: Mapping[str, Any] | None, used_pkce: Any = None) -> bool:
    """PKCE is required when the code used it, for public clients unless ``pkce: none``, for confidential
    clients with ``pkce: strict``."""
    if client is None:
        return False
    pkce = conf.get("pkce") or "lax"
    client_type = client.get("client_type") or "confidential"
    return bool(
        used_pkce
        or (client_type == "public" and pkce != "none")
        or (client_type == "confidential" and pkce == "strict")
    )


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding, as Kong's ``sha256_base64url`` compares it."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def validate_pkce_verifier(
    params: Mapping[str, Any], code: AuthorizationCode, *, skip: bool = False
) -> dict[str, str] | None:
    """Kong's ``validate_pkce_verifier`` (RFC 7636 4.5, 4.6): present, a string, 43-128 chars, matching."""
    verifier = params.get("code_verifier")
    if verifier is None:
        return {
            "error": "invalid_request",
            "error_description": "code_verifier is required for PKCE authorization requests",
        }
    if not isinstance(verifier, str):
        return {"error": "invalid_request", "error_description": "code_verifier is not a string"}
    if not 43 <= len(verifier) <= 128:
        return {
            "error": "invalid_request",
            "error_description": "code_verifier must be between 43 and 128 characters",
        }
    if not skip and (code.challenge is None or s256(verifier) != _b64url_normalise(code.challenge)):
        return {"error": "invalid_grant", "error_description": "Invalid code"}
    return None
