"""Fault injection for the issuer endpoints: scripted failures a test switches on through ``/_emulator/faults``.

A rule names an endpoint (and optionally one auth server) and says what to do instead of, or before, the
normal answer: a status with a body and headers, a delay, or a dropped connection. It applies to the next
``times`` matching calls, or until cleared. Rules are data; the issuer asks :meth:`FaultInjector.take` once
per request.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENDPOINTS = ("token", "introspect", "jwks", "discovery", "revoke", "userinfo")
"""Issuer endpoints that faults and the request log know by name."""


class InvalidFault(ValueError):
    """A fault rule that cannot be applied; the message names the field."""


@dataclass
class FaultRule:
    """What one injected fault does and how often."""

    id: int
    endpoint: str
    auth_server_id: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: int = 0
    drop_connection: bool = False
    remaining: int | None = None  # None: until cleared
    hits: int = 0

    def matches(self, endpoint: str, auth_server_id: str | None) -> bool:
        return self.endpoint == endpoint and self.auth_server_id in (None, auth_server_id)

    @property
    def replaces_response(self) -> bool:
        """Whether the fault answers instead of the endpoint (not just a delay)."""
        return self.drop_connection or self.status is not None

    def response_body(self) -> tuple[bytes, str]:
        """The body bytes and the default content type for it."""
        if self.body is None:
            return b"", "text/plain; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json"

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "auth_server_id": self.auth_server_id,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "latency_ms": self.latency_ms,
            "drop_connection": self.drop_connection,
            "remaining": self.remaining,
            "hits": self.hits,
        }


def parse_fault(data: Any, rule_id: int) -> FaultRule:
    """Validate a fault rule given as JSON (see docs/identity-control-api.md). Raises InvalidFault."""
    if not isinstance(data, Mapping):
        raise InvalidFault("body: must be a JSON object")
    known = {
        "endpoint",
        "auth_server_id",
        "status",
        "body",
        "headers",
        "latency_ms",
        "drop_connection",
        "times",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidFault(f"{unknown[0]}: unknown property")
    endpoint = data.get("endpoint")
    if endpoint not in ENDPOINTS:
        raise InvalidFault(f"endpoint: must be one of {', '.join(ENDPOINTS)}")
    server = data.get("auth_server_id")
    if server is not None and not isinstance(server, str):
        raise InvalidFault("auth_server_id: must be a string")
    status = data.get("status")
    if status is not None and (not _is_int(status) or not 100 <= status <= 599):
        raise InvalidFault("status: must be an integer between 100 and 599")
    headers = data.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and _header_safe(k) and _header_safe(v)
        for k, v in headers.items()
    ):
        raise InvalidFault("headers: must map header names to single-line strings")
    latency = data.get("latency_ms", 0)
    if not _is_int(latency) or not 0 <= latency <= 60_000:
        raise InvalidFault("latency_ms: must be an integer between 0 and 60000")
    drop = data.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise InvalidFault("drop_connection: must be a boolean")
    times = data.get("times")
    if times is not None and (not _is_int(times) or times < 1):
        raise InvalidFault("times: must be a positive integer or null (until cleared)")
    if status is None and not drop and latency == 0:
        raise InvalidFault("status: give a status, latency_ms or drop_connection")
    return FaultRule(
        id=rule_id,
        endpoint=endpoint,
        auth_server_id=server,
        status=status,
        body=data.get("body"),
        headers=dict(headers),
        latency_ms=latency,
        drop_connection=drop,
        remaining=times,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _header_safe(text: str) -> bool:
    return bool(text) and "\r" not in text and "\n" not in text


class FaultInjector:
    """The active fault rules of one emulator (thread-safe); first matching rule wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, data: Any) -> FaultRule:
        """Validate and install a rule given as JSON; raises InvalidFault."""
        rule = parse_fault(data, next(self._ids))
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, endpoint: str, auth_server_id: str | None) -> FaultRule | None:
        """The rule that applies to this call, counting it; None when no fault is active."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.matches(endpoint, auth_server_id):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self, rule_id: int | None = None) -> bool:
        """Remove one rule (False if unknown) or, without an id, all of them."""
        with self._lock:
            if rule_id is None:
                self._rules.clear()
                return True
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) < before
