"""The request log of the issuer endpoints: what callers (Kong, the suite) sent, with secrets redacted.

Tests count and inspect calls per endpoint and auth server (``GET /_emulator/requests``), e.g. how often
the gateway fetched the JWKS or which client authentication method upstream-oauth used. Counts are exact;
only the most recent entries are kept in full so memory stays flat under load. Redaction happens when an
entry is read: client secrets, tokens and credentials are replaced by a short SHA-256 fingerprint, so a
test can still tell that two calls carried the same token without the token being shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

SECRET_FIELDS = frozenset(
    {"client_secret", "token", "access_token", "refresh_token", "id_token", "assertion", "client_assertion",
     "password", "code", "code_verifier"}
)  # fmt: skip
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def fingerprint(secret: str) -> str:
    """A redacted stand-in for a secret: ``[REDACTED sha256:<8 hex>]``."""
    return f"[REDACTED sha256:{hashlib.sha256(secret.encode('utf-8', 'replace')).hexdigest()[:8]}]"


def basic_client_id(authorization: str) -> str | None:
    """The (form-decoded) user part of an HTTP Basic credential, or None when it is not Basic."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, _ = decoded.partition(":")
    return unquote_plus(user) if sep else None


def redact_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, sep, _ = value.partition(" ")
    return f"{scheme} {fingerprint(value)}" if sep else fingerprint(value)


@dataclass
class LoggedRequest:
    """One call to an issuer endpoint as received (raw; redacted by :meth:`describe`)."""

    seq: int
    endpoint: str
    auth_server_id: str | None
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    time: float
    status: int | None = None
    fault_id: int | None = None

    def describe(self) -> dict[str, Any]:
        """The entry as JSON, secrets redacted."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.headers}
        form = {}
        content_type = headers.get("content-type", "")
        if self.body and "application/x-www-form-urlencoded" in content_type:
            form = {
                k: (fingerprint(v) if k in SECRET_FIELDS else v)
                for k, v in parse_qsl(self.body.decode("latin-1"), keep_blank_values=True)
            }
        authorization = headers.get("authorization", "")
        auth: dict[str, Any] = {"scheme": authorization.partition(" ")[0].lower() or None}
        if auth["scheme"] == "basic":
            auth["client_id"] = basic_client_id(authorization)
        elif form.get("client_id") and "client_secret" in form:
            auth = {"scheme": "client_secret_post", "client_id": form["client_id"]}
        return {
            "id": self.seq,
            "endpoint": self.endpoint,
            "auth_server_id": self.auth_server_id,
            "method": self.method,
            "path": self.path,
            "query": {
                k: (fingerprint(v) if k in SECRET_FIELDS else v)
                for k, v in parse_qsl(self.query.decode("latin-1"), keep_blank_values=True)
            },
            "headers": {k: redact_header(k, v) for k, v in headers.items()},
            "form": form,
            "auth": auth,
            "status": self.status,
            "fault_id": self.fault_id,
            "time": self.time,
        }


class RequestLog:
    """Exact counts per (endpoint, auth server) plus the last ``keep`` entries (thread-safe)."""

    def __init__(self, keep: int = 2000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=keep)
        self._counts: Counter[tuple[str, str | None]] = Counter()
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, entry_args: dict[str, Any]) -> LoggedRequest:
        """Add an entry (fields of :class:`LoggedRequest` except ``seq``); the caller may set its status."""
        entry = LoggedRequest(seq=next(self._seq), **entry_args)
        with self._lock:
            self._entries.append(entry)
            self._counts[(entry.endpoint, entry.auth_server_id)] += 1
        return entry

    def count(self, endpoint: str | None = None, auth_server_id: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (ep, sid), n in self._counts.items()
                if (endpoint is None or ep == endpoint) and (auth_server_id is None or sid == auth_server_id)
            )

    def entries(self, endpoint: str | None = None, auth_server_id: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [
                e
                for e in self._entries
                if (endpoint is None or e.endpoint == endpoint)
                and (auth_server_id is None or e.auth_server_id == auth_server_id)
            ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
