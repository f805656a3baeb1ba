"""Key rings and the key pool (keys.py; https://developer.konghq.com/how-to/configure-kong-identity-oidc/ kid = UUID, RSA keys)."""

from __future__ import annotations

import threading
import uuid

from cryptography.hazmat.primitives.asymmetric import rsa

from kongformance.identity.keys import KeyPool, KeyRegistry, KeyRing, SigningKey, generate_rsa_key

_ONE_KEY = generate_rsa_key()


def test_pool_hands_out_pregenerated_keys_and_refills() -> None:
    """keys.py: a pool so the first token of an auth server does not stall on key generation."""
    made: list[rsa.RSAPrivateKey] = []
    done = threading.Event()

    def generate() -> rsa.RSAPrivateKey:
        made.append(_ONE_KEY)
        if len(made) >= 3:
            done.set()
        return _ONE_KEY

    pool = KeyPool(size=2, generate=generate)
    assert pool.take() is _ONE_KEY  # empty pool: generated on the spot, refill starts
    assert done.wait(5)


def test_ring_rotation_keeps_or_drops_previous() -> None:
    """docs/identity-control-api.md: current first, previous kept unless keep_previous=false."""
    first, second, third = (SigningKey.create(_ONE_KEY) for _ in range(3))
    ring = KeyRing(first)
    assert ring.published() == [first]
    ring.rotate(second)
    assert ring.published() == [second, first]
    assert ring.by_kid(first.kid) is first
    ring.rotate(third, keep_previous=False)
    assert ring.published() == [third]
    assert ring.by_kid(first.kid) is None


def test_registry_finds_keys_by_kid_across_servers() -> None:
    """verification.py relies on finding the owner of a kid (foreign-token detection)."""
    registry = KeyRegistry(KeyPool(size=0, generate=lambda: _ONE_KEY))
    a, b = registry.ring("a"), registry.ring("b")
    assert registry.find(a.current.kid) == ("a", a.current)
    assert registry.find(b.current.kid) == ("b", b.current)
    assert registry.find(str(uuid.uuid4())) is None


def test_jwk_and_header_segment_describe_the_key() -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: header alg/typ/kid; JWKS RSA members."""
    key = SigningKey.create(_ONE_KEY)
    jwk = key.public_jwk("PS256")
    assert jwk["kty"] == "RSA" and jwk["kid"] == key.kid and jwk["alg"] == "PS256" and jwk["e"] == "AQAB"
    assert key.header_segment("PS256") != key.header_segment("RS256")
