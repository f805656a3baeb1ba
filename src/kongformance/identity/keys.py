"""Signing keys of the issuer emulator: one RSA-2048 key ring per auth server.

A ring holds the current key and, after a rotation, the previous one; the JWKS publishes both (current
first). Kong Identity exposes no key API (https://developer.konghq.com/api/konnect/kong-identity/v1/), so rotation is a control-surface action.
RSA key generation costs ~50 ms, so keys come from a small pool that a background thread keeps filled
and rings are created lazily, on the first token, JWKS or mint request of an auth server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import queue
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
"""The ``signing_algorithm`` enum of the auth server object (https://developer.konghq.com/api/konnect/kong-identity/v1/)."""

_JWS_ALGORITHMS = get_default_algorithms()


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 private key (public exponent 65537)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class SigningKey:
    """One RSA key with its ``kid`` (a UUID), its public JWK and cached JWS header segments."""

    kid: str
    private_key: rsa.RSAPrivateKey
    _header_segments: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, private_key: rsa.RSAPrivateKey | None = None) -> SigningKey:
        return cls(kid=str(uuid.uuid4()), private_key=private_key or generate_rsa_key())

    def public_jwk(self, alg: str | None = None, kid: str | None = None) -> dict[str, Any]:
        """The public key as a JWK (RFC 7517); ``alg`` and ``kid`` may be overridden."""
        numbers = self.private_key.public_key().public_numbers()
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "use": "sig",
            "kid": kid or self.kid,
            "n": _uint_b64(numbers.n),
            "e": _uint_b64(numbers.e),
        }
        if alg:
            jwk["alg"] = alg
        return jwk

    def public_pem(self) -> bytes:
        """The public key in PEM (SubjectPublicKeyInfo), e.g. as an HMAC secret for alg-confusion tests."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def header_segment(self, alg: str) -> str:
        """The encoded JWS header ``{"alg","typ":"JWT","kid"}``, computed once per algorithm."""
        cached = self._header_segments.get((alg, self.kid))
        if cached is None:
            header = {"alg": alg, "typ": "JWT", "kid": self.kid}
            cached = b64url(json.dumps(header, separators=(",", ":")).encode())
            self._header_segments[(alg, self.kid)] = cached
        return cached

    def sign(self, signing_input: bytes, alg: str) -> bytes:
        """Sign with one of :data:`SIGNING_ALGORITHMS` (pyjwt's RSA/RSA-PSS implementations)."""
        if alg not in SIGNING_ALGORITHMS:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        return _JWS_ALGORITHMS[alg].sign(signing_input, self.private_key)

    def sign_jwt(self, payload_segment: str, alg: str) -> str:
        """A compact JWS from an already encoded payload, using the cached header."""
        signing_input = f"{self.header_segment(alg)}.{payload_segment}"
        signature = self.sign(signing_input.encode("ascii"), alg)
        return f"{signing_input}.{b64url(signature)}"


class KeyPool:
    """Pre-generated RSA keys, refilled by a daemon thread, so rings are created without a 50 ms stall."""

    def __init__(self, size: int = 2, generate: Callable[[], rsa.RSAPrivateKey] = generate_rsa_key) -> None:
        self._size = size
        self._generate = generate
        self._keys: list[rsa.RSAPrivateKey] = []
        self._lock = threading.Lock()
        self._refilling = False

    def take(self) -> rsa.RSAPrivateKey:
        """A pooled key if one is ready, else a freshly generated one; starts a refill either way."""
        with self._lock:
            key = self._keys.pop() if self._keys else None
        self.refill()
        return key if key is not None else self._generate()

    def refill(self) -> None:
        """Top the pool up in the background (no-op when full or already refilling)."""
        with self._lock:
            if self._refilling or len(self._keys) >= self._size:
                return
            self._refilling = True
        threading.Thread(target=self._fill, name="kongformance-keypool", daemon=True).start()

    def _fill(self) -> None:
        try:
            while True:
                with self._lock:
                    if len(self._keys) >= self._size:
                        return
                key = self._generate()
                with self._lock:
                    self._keys.append(key)
        finally:
            with self._lock:
                self._refilling = False


class KeyRing:
    """Current and previous signing key of one auth server."""

    def __init__(self, current: SigningKey) -> None:
        self.current = current
        self.previous: SigningKey | None = None

    def rotate(self, new_key: SigningKey, *, keep_previous: bool = True) -> None:
        """Make ``new_key`` current; the old current key stays published only if ``keep_previous``."""
        self.previous = self.current if keep_previous else None
        self.current = new_key

    def published(self) -> list[SigningKey]:
        """Keys in the JWKS, current first."""
        return [self.current] if self.previous is None else [self.current, self.previous]

    def by_kid(self, kid: str) -> SigningKey | None:
        for key in self.published():
            if key.kid == kid:
                return key
        return None


class KeyRegistry:
    """Key rings by auth server id, created lazily from a :class:`KeyPool` (thread-safe)."""

    def __init__(self, pool: KeyPool | None = None) -> None:
        self.pool = pool or KeyPool()
        self._rings: dict[str, KeyRing] = {}
        self._lock = threading.Lock()
        self._stray: SigningKey | None = None

    def ring(self, server_id: str) -> KeyRing:
        """The ring of ``server_id``, generating its first key if needed."""
        ring = self._rings.get(server_id)
        if ring is not None:
            return ring
        key = SigningKey.create(self.pool.take())
        with self._lock:
            return self._rings.setdefault(server_id, KeyRing(key))

    def rotate(self, server_id: str, *, keep_previous: bool = True) -> KeyRing:
        ring = self.ring(server_id)
        new_key = SigningKey.create(self.pool.take())
        with self._lock:
            ring.rotate(new_key, keep_previous=keep_previous)
        return ring

    def find(self, kid: str) -> tuple[str, SigningKey] | None:
        """(auth server id, key) of the published key ``kid``, whichever server owns it."""
        with self._lock:
            rings = list(self._rings.items())
        for server_id, ring in rings:
            key = ring.by_kid(kid)
            if key is not None:
                return server_id, key
        return None

    def forget(self, server_id: str) -> None:
        """Drop the ring of a deleted auth server."""
        with self._lock:
            self._rings.pop(server_id, None)

    def stray_key(self) -> SigningKey:
        """A key published by no auth server, for minting tokens that must fail signature checks."""
        if self._stray is None:
            key = SigningKey.create(self.pool.take())
            with self._lock:
                if self._stray is None:
                    self._stray = key
        assert self._stray is not None
        return self._stray


class _Inbox:
    """Signatures finished for one event loop, handed back with at most one wake-up of the loop pending."""

    __slots__ = ("loop", "done", "wake_pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.done: deque[tuple[asyncio.Future[str], str | None, BaseException | None]] = deque()
        self.wake_pending = False

    def put(self, future: asyncio.Future[str], jwt: str | None, error: BaseException | None) -> None:
        """Called on a signing thread."""
        self.done.append((future, jwt, error))
        if not self.wake_pending:
            self.wake_pending = True
            with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
                self.loop.call_soon_threadsafe(self.drain)

    def drain(self) -> None:
        """Called on the loop: resolve every finished signature."""
        self.wake_pending = False
        done = self.done
        while done:
            future, jwt, error = done.popleft()
            if future.cancelled():
                continue
            if error is None:
                future.set_result(jwt)  # type: ignore[arg-type]
            else:
                future.set_exception(error)


_Job = tuple[_Inbox, "asyncio.Future[str]", SigningKey, str, str]
"""A signing job: where to hand the result, the future to resolve, key, payload segment, algorithm."""


class JwtSigners:
    """Signing threads for the token endpoint: RSA signing releases the GIL, so tokens are signed on another
    core while the event loop parses the next requests. Cheaper than ``run_in_executor`` per token: a plain
    queue in, and finished signatures handed back in batches with one loop wake-up per batch."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started = False
        self._lock = threading.Lock()
        self._inbox: _Inbox | None = None

    def sign(self, key: SigningKey, payload_segment: str, alg: str) -> asyncio.Future[str]:
        """A future of the compact JWS of ``payload_segment`` (see :meth:`SigningKey.sign_jwt`)."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:
            inbox = self._inbox = _Inbox(loop)
        future: asyncio.Future[str] = loop.create_future()
        self._jobs.put((inbox, future, key, payload_segment, alg))
        return future

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            for n in range(self.threads):
                name = f"kongformance-sign-{n}"
                threading.Thread(target=_sign_jobs, args=(self._jobs,), name=name, daemon=True).start()
            # the threads hold only the queue: when this object goes, they are told to stop
            weakref.finalize(self, _stop, self._jobs, self.threads)
            self._started = True


def _stop(jobs: queue.SimpleQueue[_Job | None], threads: int) -> None:
    for _ in range(threads):
        jobs.put(None)


def _sign_jobs(jobs: queue.SimpleQueue[_Job | None]) -> None:
    """A signing thread: sign queued jobs until told to stop."""
    while True:
        job = jobs.get()
        if job is None:
            return
        inbox, future, key, payload_segment, alg = job
        try:
            jwt = key.sign_jwt(payload_segment, alg)
        except Exception as err:  # handed to the awaiting request
            inbox.put(future, None, err)
        else:
            inbox.put(future, jwt, None)
