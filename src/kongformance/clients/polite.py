"""Konnect manners for every client: 429 and ``Retry-After`` honoured with bounded backoff; calls counted.

:class:`PoliteTransport` wraps httpx's transport. On ``429 Too Many Requests`` it waits what ``Retry-After``
asks (delta-seconds or an HTTP-date, RFC 9110 10.2.3), else an exponential backoff, and sends the request
again, at most ``max_attempts`` times and ``max_wait`` seconds of waiting in all; then it raises
:class:`RateLimited` (one line). Kong Identity documents a rate limit per auth server and Konnect answers
429 with ``Retry-After`` (Konnect API docs, "Rate limiting").

Every request sent (retries included) is counted by kind (``identity``, ``admin``, ``issuer``) in
:data:`API_CALLS`, which the pytest plugin reports per run. Settings (``--kf-set`` or the environment):
``KF_RETRY_MAX_ATTEMPTS`` (default 5) and ``KF_RETRY_MAX_WAIT`` (seconds, default 60).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from kongformance.clients.pacing import issuer_pacer


class RateLimited(RuntimeError):
    """The API still answered 429 when the retry budget ran out."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep asking an API that answers 429."""

    max_attempts: int = 5  # requests sent in all, the first included
    max_wait: float = 60.0  # seconds of waiting in all, for one request
    base_delay: float = 0.5  # first backoff when no Retry-After is given (doubles each time)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str] | None = None) -> RetryPolicy:
        """From ``KF_RETRY_MAX_ATTEMPTS`` / ``KF_RETRY_MAX_WAIT`` (``settings`` first, then the environment);
        a bad value raises ValueError naming the setting."""
        settings = settings or {}

        def get(key: str) -> str:
            return settings.get(key) or os.environ.get(key, "")

        attempts, wait = cls.max_attempts, cls.max_wait
        raw = get("KF_RETRY_MAX_ATTEMPTS")
        if raw:
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"KF_RETRY_MAX_ATTEMPTS: must be a whole number >= 1, got {raw!r}")
            attempts = int(raw)
        raw = get("KF_RETRY_MAX_WAIT")
        if raw:
            try:
                wait = float(raw)
            except ValueError:
                wait = -1.0
            if wait < 0:
                raise ValueError(f"KF_RETRY_MAX_WAIT: must be a number of seconds >= 0, got {raw!r}")
        return cls(max_attempts=attempts, max_wait=wait)


class CallCounter:
    """Requests sent by kind, and how many answered 429 (thread-safe; one per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()

    def count(self, kind: str, *, limited: bool = False) -> None:
        with self._lock:
            self.calls[kind] += 1
            if limited:
                self.rate_limited[kind] += 1

    def add(self, snapshot: Mapping[str, Mapping[str, int]]) -> None:
        """Add another process's :meth:`snapshot` (xdist workers report theirs to the controller)."""
        with self._lock:
            self.calls.update(snapshot.get("calls", {}))
            self.rate_limited.update(snapshot.get("rate_limited", {}))

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"calls": dict(self.calls), "rate_limited": dict(self.rate_limited)}

    def summary(self) -> dict[str, object]:
        """``{"total": n, "by_api": {...}, "rate_limited": n}`` for the run facts."""
        with self._lock:
            return {
                "total": sum(self.calls.values()),
                "by_api": dict(sorted(self.calls.items())),
                "rate_limited": sum(self.rate_limited.values()),
            }

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.rate_limited.clear()


API_CALLS = CallCounter()


def describe_calls(summary: Mapping[str, object]) -> str:
    """One line for a :meth:`CallCounter.summary` (the terminal summary and the HTML report say it alike):
    ``631 (admin 253, identity 66, issuer 312); answered 429: 0``."""
    by_api = summary.get("by_api")
    parts = ", ".join(f"{k} {n}" for k, n in by_api.items()) if isinstance(by_api, Mapping) else ""
    return f"{summary.get('total', 0)} ({parts or 'none'}); answered 429: {summary.get('rate_limited', 0)}"


_default_policy = RetryPolicy()


def set_default_policy(policy: RetryPolicy) -> None:
    """The policy of clients built without one (the pytest plugin sets it from the run's settings)."""
    global _default_policy
    _default_policy = policy


def default_policy() -> RetryPolicy:
    return _default_policy


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (None when absent or unreadable)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def answered_429(response: httpx.Response) -> bool:
    """The server itself refused the request for its rate (429 Too Many Requests)."""
    return response.status_code == 429


def relays_rate_limit(response: httpx.Response) -> bool:
    """A gateway refusal caused by its IdP's rate limit, not by the request: a 429 of its own, or a 401/5xx
    whose JSON body is the IdP's 429 answer passed on (oauth2-introspection hands on the body of a non-200
    introspection answer with 401; Konnect's 429 body is problem+json with ``"status": 429``)."""
    if response.status_code == 429:
        return True
    if response.status_code != 401 and response.status_code < 500:
        return False
    response.read()
    if b"429" not in response.content:
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == 429


class PoliteTransport(httpx.BaseTransport):
    """An httpx transport that counts requests and retries 429 answers within a :class:`RetryPolicy`."""

    def __init__(
        self,
        kind: str,
        *,
        inner: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        verify: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        counter: CallCounter | None = None,
        limited: Callable[[httpx.Response], bool] | None = None,
        paced: bool = False,
    ) -> None:
        """``paced``: each request (retries too) waits for its slot of :func:`.pacing.issuer_pacer` (traffic
        that reaches the auth server)."""
        self.kind = kind
        self.paced = paced
        self.limited = limited or answered_429
        self.inner = inner or httpx.HTTPTransport(verify=verify)
        self.policy = policy
        self.sleep = sleep
        self.counter = counter or API_CALLS

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy or default_policy()
        waited = 0.0
        attempt = 1
        while True:
            if self.paced:
                issuer_pacer().wait()
            response = self.inner.handle_request(request)
            limited = self.limited(response)
            self.counter.count(self.kind, limited=limited)
            if not limited:
                return response
            asked = retry_after(response.headers.get("Retry-After"))
            delay = asked if asked is not None else policy.base_delay * 2 ** (attempt - 1)
            if attempt >= policy.max_attempts or waited + delay > policy.max_wait:
                response.read()
                response.close()
                told = (
                    f", Retry-After {response.headers['Retry-After']}"
                    if "Retry-After" in response.headers
                    else ""
                )
                raise RateLimited(
                    f"{request.method} {request.url.copy_with(query=None)}: still 429 Too Many Requests after "
                    f"{attempt} attempt(s) and {waited:g} s of waiting{told} (limits: KF_RETRY_MAX_ATTEMPTS="
                    f"{policy.max_attempts}, KF_RETRY_MAX_WAIT={policy.max_wait:g})"
                )
            response.read()
            response.close()
            self.sleep(delay)  # the server asked for this pause (Retry-After) or backoff: not test timing
            waited += delay
            attempt += 1

    def close(self) -> None:
        self.inner.close()


def polite_client(
    kind: str, *, timeout: float = 15.0, verify: bool = True, paced: bool = False, **kwargs: object
) -> httpx.Client:
    """An ``httpx.Client`` whose requests go through a :class:`PoliteTransport` of ``kind``."""
    transport = PoliteTransport(kind, verify=verify, paced=paced)
    return httpx.Client(timeout=timeout, transport=transport, **kwargs)  # type: ignore[arg-type]
