"""Kong's own checks and transformations of consumer credentials (oauth2 and jwt), used by entities.py and
store.py: redirect URI validation, the PBKDF2 hash of ``hash_secret``, the public key a jwt secret needs."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

# jwt_secrets' conditional entity check: these algorithms need an rsa_public_key that OpenSSL can load
# (https://github.com/Kong/kong/blob/3.9.0/kong/plugins/jwt/daos.lua; ES* are not in Kong's list)
NEEDS_PUBLIC_KEY = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA")


def is_public_key(text: str) -> bool:
    """Whether ``resty.openssl.pkey.new`` would load ``text``: a PEM or DER public or private key."""
    raw = text.encode()
    loaders = (
        lambda: serialization.load_pem_public_key(raw),
        lambda: serialization.load_pem_private_key(raw, password=None),
        lambda: serialization.load_der_public_key(raw),
        lambda: serialization.load_der_private_key(raw, password=None),
    )
    for load in loaders:
        try:
            load()
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return True
    return False


def redirect_uri_problem(uri: str) -> str | None:
    """Kong's ``validate_uri`` of an oauth2 credential's redirect URI (socket.url parse: a scheme and a host,
    no fragment; https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/daos.lua#L9-L19)."""
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc or not parts.hostname:
        return f"cannot parse '{uri}'"
    if "#" in uri:
        return f"fragment not allowed in '{uri}'"
    return None


def hash_client_secret(secret: str) -> str:
    """Kong's ``secret.hash`` (PBKDF2 is the only algorithm enabled at 3.9.0): PBKDF2-HMAC-SHA512, 10000
    iterations, 32 bytes, a 16-byte random salt, as ``$pbkdf2-sha512$i=10000,l=32$<salt>$<hash>`` with unpadded
    base64 (https://github.com/Kong/kong/blob/3.9.0/kong/plugins/oauth2/secret.lua#L199-L260)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, 10000, 32)

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    return f"$pbkdf2-sha512$i=10000,l=32${b64(salt)}${b64(digest)}"
