"""Credentials and names the profile derives for Kong's own plugin specs (issue 12): the oauth2 app credential
with a redirect URI, the provision_key of each ``oauth2-grants*`` plugin, the jwt consumer's EdDSA credentials
(derived from its RSA key, so workers need nothing more than the profile handles), and the anonymous consumer
that does not exist. Used by :mod:`kongformance.profile_gateway` and the suites.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kongformance.profile import ClientCreds, ProfileHandles

OAUTH2_REDIRECT_URI = "https://kf-client.example/callback"  # the oauth2 app credential's one redirect URI


def oauth2_app(handles: ProfileHandles) -> ClientCreds | None:
    """The second oauth2 credential of the profile's oauth2 consumer: same secret, a ``redirect_uris`` entry
    (the authorization-code, implicit, password and refresh grants need one; 25-oauth2 access spec)."""
    cred = handles.oauth2
    if cred is None:
        return None
    return ClientCreds(f"{cred.id}-app", cred.secret, f"{cred.name}-app")


def oauth2_provision_key(handles: ProfileHandles, variant: str) -> str:
    """The provision_key the profile sets on an ``oauth2-grants*`` route's plugin (unique per plugin)."""
    return f"kf-provision-{variant}-{handles.run_id}"


def missing_anonymous(handles: ProfileHandles) -> str:
    """The consumer route ``jwt-anonymous-missing`` names as ``anonymous``: no such consumer exists."""
    return f"kf-no-such-consumer-{handles.run_id}"


@dataclass(frozen=True)
class EddsaKey:
    """An EdDSA jwt credential of the profile's jwt consumer: ``key`` is the ``iss`` of its tokens."""

    key: str
    private_key: Ed25519PrivateKey | Ed448PrivateKey
    public_pem: str


def jwt_eddsa_keys(handles: ProfileHandles) -> dict[str, EddsaKey]:
    """Ed25519 and Ed448 credentials derived from the profile's jwt key (so the suite can sign without
    shipping another private key to the workers); Kong 3.7+ accepts EdDSA (16-jwt access spec)."""
    if handles.jwt is None:
        return {}
    seed = handles.jwt.private_pem.encode()
    keys: dict[str, Ed25519PrivateKey | Ed448PrivateKey] = {
        "Ed25519": Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed + b"Ed25519").digest()),
        "Ed448": Ed448PrivateKey.from_private_bytes(hashlib.shake_256(seed + b"Ed448").digest(57)),
    }
    out: dict[str, EddsaKey] = {}
    for curve, private in keys.items():
        pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        out[curve] = EddsaKey(f"kf-jwt-{curve.lower()}-{handles.run_id}", private, pem)
    return out
