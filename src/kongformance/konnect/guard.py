"""Konnect's front door: personal/system access tokens, per-key request rates, and its error bodies.

Konnect authenticates API calls with ``Authorization: Bearer kpat_...`` (personal access token) or
``spat_...`` (system account token); anything else is 401. Over a rate it answers 429 with ``Retry-After``
(whole seconds). :class:`RateLimiter` is a token bucket per key (an API token, or an auth server's issuer).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable

from kongformance.problem_json import PROBLEM_CONTENT_TYPE, problem_body

TOKEN_PREFIXES = ("kpat_", "spat_")

Headers = list[tuple[bytes, bytes]]


def bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The bearer token of ``Authorization``, or None when the header is absent or not a bearer."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def token_policy(accepted: Iterable[str] = ()) -> Callable[[str], bool]:
    """Which tokens authenticate: exactly ``accepted`` when given, else any ``kpat_``/``spat_`` token."""
    allowed = set(accepted)
    if allowed:
        return lambda token: token in allowed
    return lambda token: token.startswith(TOKEN_PREFIXES) and len(token) > len("kpat_")


class RateLimiter:
    """At most ``rate`` requests per second per key (bursts up to ``rate``); ``rate <= 0`` never limits."""

    def __init__(self, rate: float, *, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """None when the request may pass (and count it); else the whole seconds to wait."""
        if self.rate <= 0:
            return None
        with self._lock:
            now = self._now()
            tokens, last = self._buckets.get(key, (self.rate, now))
            tokens = min(self.rate, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))


def problem(status: int, detail: str, headers: Headers | None = None) -> tuple[int, Headers, bytes]:
    """A Konnect ``application/problem+json`` answer (``BaseError``; 400s add ``invalid_parameters``)."""
    body = problem_body(status, detail)
    if status == 429:
        body["title"] = "Too Many Requests"
    return _json(status, body, PROBLEM_CONTENT_TYPE, headers or [])


def unauthorized(path: str, token: str | None) -> tuple[int, Headers, bytes]:
    """401 as Konnect answers it: core entities use ``GatewayUnauthorizedError``, other APIs problem+json."""
    if "/core-entities/" in path:
        message = "No API key found in request" if token is None else "Unauthorized"
        return _json(401, {"message": message, "status": 401}, "application/json", [])
    detail = "No API key found in request" if token is None else "Invalid credentials"
    return problem(401, detail)


def too_many_requests(retry_after: int) -> tuple[int, Headers, bytes]:
    return problem(429, "API rate limit exceeded", [(b"retry-after", str(retry_after).encode())])


def _json(status: int, body: object, content_type: str, headers: Headers) -> tuple[int, Headers, bytes]:
    raw = json.dumps(body).encode()
    out = [(b"content-type", content_type.encode()), (b"content-length", str(len(raw)).encode()), *headers]
    return status, out, raw
