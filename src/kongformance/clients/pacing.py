"""Pacing of the traffic that reaches the auth server, so a parallel run stays under Kong Identity's rate.

Kong Identity limits each auth server to 100 requests/s (https://developer.konghq.com/kong-identity/auth-servers/).
A run with ``-n auto`` against Konnect reaches that: the suite's own token and introspection calls count, and
so do the introspection calls the gateway makes for proxied requests. A refusal over the limit says nothing
about the token, and retrying is no cure: openid-connect's ``introspection`` auth answers it with a bare
``401 {"message":"Unauthorized"}`` that cannot be told from a real refusal. So the suite's issuer and proxy
clients send no faster than ``KF_ISSUER_RATE`` requests/s for the whole run, shared evenly among the xdist
workers: default 80 on the konnect target (below the limit, leaving room for the gateway's own discovery, JWKS
and upstream-oauth token calls), 0 (no pacing) on the others, whose issuer is ours or the user's.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping

SETTING = "KF_ISSUER_RATE"
KONG_IDENTITY_RATE = 100.0  # requests/s per auth server (Kong Identity's auth-servers page)
DEFAULT_RATES = {"konnect": 80.0}  # targets whose issuer is Kong Identity; any other: 0 (no pacing)


class Pacer:
    """At most ``rate`` requests per second from this process, evenly spaced; ``rate <= 0`` never waits."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0  # the earliest time the next request may leave
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Hold the caller until its request's slot; the seconds it waited."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
        delay = slot - now
        if delay > 0:
            self._sleep(delay)  # the auth server's rate limit asks for this spacing: not test timing
        return delay

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str] | None = None, *, target: str = "local", workers: int = 1
    ) -> Pacer:
        """This process's share of ``KF_ISSUER_RATE`` (``settings`` first, then the environment; default by
        target); a bad value raises ValueError naming the setting."""
        raw = (settings or {}).get(SETTING) or os.environ.get(SETTING, "")
        rate = DEFAULT_RATES.get(target, 0.0)
        if raw:
            try:
                rate = float(raw)
            except ValueError:
                rate = -1.0
            if not math.isfinite(rate) or rate < 0:
                raise ValueError(
                    f"{SETTING}: must be a number of requests per second >= 0 (0: no pacing), got {raw!r}"
                )
        return cls(rate / max(1, workers))


def xdist_workers() -> int:
    """How many xdist workers share the run (1 without xdist)."""
    raw = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


_issuer_pacer = Pacer(0.0)


def set_issuer_pacer(pacer: Pacer) -> None:
    """The pacer of this process's issuer-bound clients (the pytest plugin sets it from the run's settings)."""
    global _issuer_pacer
    _issuer_pacer = pacer


def issuer_pacer() -> Pacer:
    return _issuer_pacer
