"""Access tokens as Kong Identity issues them: scope resolution, claim selection and rendering, JWT minting.

https://developer.konghq.com/how-to/configure-kong-identity-oidc/ (token format), B.5 (scopes), B.6 and A.5 (claim inclusion modes), C (templates).
Time comes from the shared Clock; keys from :mod:`kongformance.identity.keys`.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kongformance.defects import DefectSwitches
from kongformance.identity.keys import SigningKey, b64url
from kongformance.identity.store import AuthServer, Claim, Client, Scope, TokenRecord
from kongformance.identity.templating import render_claim
from kongformance.identity.templating.functions import python_case_mapping

REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope"})
"""Claims the issuer sets itself; a custom claim of the same name is dropped (docs/fidelity/identity-issuer.md)."""

OPENID_SCOPE = "openid"
FIXED_DURATION_DEFECT_SECONDS = 3600


class InvalidScope(Exception):
    """A requested scope the client may not be granted (answered as ``invalid_scope``)."""


@dataclass(frozen=True)
class ScopeGrant:
    """The outcome of scope resolution: granted scopes (in the server's order) and whether any were asked for."""

    granted: tuple[Scope, ...]
    requested_any: bool

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.granted]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.granted)


def parse_scope_parameter(raw: str | None) -> list[str]:
    """Scope names of a ``scope`` parameter (space-delimited, RFC 6749 3.3), duplicates removed."""
    return [name for name in dict.fromkeys((raw or "").split(" ")) if name]


def allowed_scopes(scopes: Iterable[Scope], client: Client) -> list[Scope]:
    """Enabled scopes the client may use: all if ``allow_all_scopes``, else those in ``allow_scopes`` (B.5)."""
    if client.allow_all_scopes:
        return [s for s in scopes if s.enabled]
    allowed = set(client.allow_scopes)
    return [s for s in scopes if s.enabled and s.id in allowed]


def resolve_scopes(
    scopes: Sequence[Scope], client: Client, requested: Sequence[str], defects: DefectSwitches
) -> ScopeGrant:
    """Granted = requested ∩ allowed ∩ enabled, plus allowed defaults (B.5).

    Raises InvalidScope for a requested name that is unknown, disabled or not allowed; ``openid`` is
    accepted without being granted unless the server defines a scope of that name (inferred).
    """
    allowed = allowed_scopes(scopes, client)
    if client.allow_all_scopes and defects.on("option_identity_allow_all_scopes_ignored"):
        allowed = [s for s in scopes if s.enabled and s.id in set(client.allow_scopes)]
    if defects.on("option_identity_disabled_scope_granted"):
        listed = set(client.allow_scopes)
        allowed = [s for s in scopes if s in allowed or (not s.enabled and s.id in listed)]
    allowed_names = {s.name for s in allowed}
    by_name = {s.name: s for s in scopes}
    wanted: set[str] = set()
    for name in requested:
        if name in allowed_names:
            wanted.add(name)
        elif name == OPENID_SCOPE and name not in by_name:
            continue
        elif defects.on("grant_disallowed_scope") and name in by_name:
            wanted.add(name)
        else:
            raise InvalidScope(f"The requested scope is invalid, unknown, or not allowed: {name}")
    if not defects.on("drop_default_scopes"):
        wanted.update(s.name for s in allowed if s.default)
    granted = tuple(s for s in scopes if s.name in wanted)
    return ScopeGrant(granted=granted, requested_any=bool(requested))


def claim_applies(claim: Claim, grant: ScopeGrant, defects: DefectSwitches) -> bool:
    """Whether an enabled ``include_in_token`` claim goes into this token (the modes of A.5, B.6)."""
    if claim.include_in_all_scopes:
        return True
    if claim.include_in_scopes:
        return defects.on("scope_claims_always") or bool(grant.ids.intersection(claim.include_in_scopes))
    return not grant.requested_any or defects.on("option_identity_no_scope_claim_always")


def token_claims(claims: Iterable[Claim], grant: ScopeGrant, defects: DefectSwitches) -> list[Claim]:
    """The custom claims of an access token, in the server's order."""
    every_enabled = defects.on("option_identity_disabled_claim_in_token")
    never_too = defects.on("option_identity_never_claim_in_token")
    return [
        c
        for c in claims
        if (c.enabled or every_enabled)
        and (c.include_in_token or never_too)
        and (claim_applies(c, grant, defects) or not c.include_in_token)
    ]


def userinfo_claims(claims: Iterable[Claim]) -> list[Claim]:
    """Claims served only by ``/userinfo``: enabled with ``include_in_token=false`` (A.5; inferred)."""
    return [c for c in claims if c.enabled and not c.include_in_token]


def render(
    claims: Iterable[Claim], context: Mapping[str, Any], now: float, defects: DefectSwitches
) -> dict[str, Any]:
    """Render claim templates (same engine as test-claim); a failing template drops its claim (C.6)."""
    rendered: dict[str, Any] = {}
    full_case = defects.on("template_case_mapping_full_unicode")
    if defects.on("option_identity_client_labels_ignored"):
        context = {**context, "Client": {**context.get("Client", {}), "Labels": {}}}
    unrendered = defects.on("option_identity_claim_template_unrendered")
    for claim in claims:
        if unrendered and "${" in claim.value:
            rendered[claim.name] = claim.value
            continue
        if full_case:
            with python_case_mapping():
                ok, value = render_claim(claim.value, context, now=now)
        else:
            ok, value = render_claim(claim.value, context, now=now)
        if ok:
            rendered[claim.name] = value
        elif defects.on("failed_template_renders_empty"):
            rendered[claim.name] = ""
    return rendered


@dataclass(frozen=True)
class UnsignedToken:
    """An access token ready to sign: its encoded payload, bookkeeping record, ``expires_in`` and the JSON of
    its ``scope`` claim (echoed in the token answer)."""

    payload_segment: str
    record: TokenRecord
    expires_in: int
    scope_json: str


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Compact JSON, UTF-8 text kept as is: the encoding of every part of a token's payload."""


@dataclass(frozen=True)
class TokenShape:
    """What every token of one client, scope grant and issuer URL shares (B.4): the payload's JSON around the
    per-token values, in the claims' order ``aud, client_id, exp, iat, iss, jti, nbf, scope, sub``."""

    issuer_url: str
    server_id: str
    client_id: str
    scope_names: tuple[str, ...]
    duration: int
    expires_in: int
    head: str  # {"aud":...,"client_id":...
    iss: str  # ,"iss":...
    tail: str  # ,"scope":...,"sub":...
    scope_json: str


def token_shape(
    server: AuthServer, client: Client, issuer_url: str, grant: ScopeGrant, defects: DefectSwitches
) -> TokenShape:
    """The shared part of the tokens of ``client`` under ``grant`` (the defects that change it included)."""
    duration = (
        FIXED_DURATION_DEFECT_SECONDS if defects.on("exp_ignores_duration") else client.access_token_duration
    )
    if defects.on("option_identity_access_token_duration_doubled"):
        duration *= 2
    audience = issuer_url if defects.on("option_identity_audience_replaced_by_issuer") else server.audience
    aud: Any = audience if defects.on("aud_as_string") else [audience]
    scope_json = _JSON(" ".join(grant.names))
    return TokenShape(
        issuer_url=issuer_url,
        server_id=server.id,
        client_id=client.id,
        scope_names=tuple(grant.names),
        duration=duration,
        expires_in=client.access_token_duration
        - 1,  # observed as duration - 1 (https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow)
        head=f'{{"aud":{_JSON(aud)},"client_id":{_JSON(client.id)}',
        iss=f',"iss":{_JSON(issuer_url)}',
        tail=f',"scope":{scope_json},"sub":{_JSON(client.id)}',
        scope_json=scope_json,
    )


class _JtiSource:
    """Random (version 4) UUIDs for ``jti``, cut from 4 KiB of ``os.urandom`` at a time (thread-safe)."""

    def __init__(self) -> None:
        self._pool = b""
        self._next = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._next + 16 > len(self._pool):
                self._pool, self._next = os.urandom(4096), 0
            start = self._next
            self._next = start + 16
            raw = self._pool[start : start + 16]
        return str(uuid.UUID(bytes=raw, version=4))


new_jti = _JtiSource()


def prepare_access_token(shape: TokenShape, custom: Mapping[str, Any], now: float) -> UnsignedToken:
    """An access token of ``shape`` issued at ``now``: registered claims first (iat = nbf = ``now``, exp = iat +
    duration, a fresh jti), then the custom claims that do not collide with them, in their order."""
    iat = int(now)
    exp = iat + shape.duration
    jti = new_jti()
    kept = {name: value for name, value in custom.items() if name not in REGISTERED_CLAIMS}
    extra = "," + _JSON(kept)[1:-1] if kept else ""
    payload = (
        f'{shape.head},"exp":{exp},"iat":{iat}{shape.iss},"jti":"{jti}","nbf":{iat}{shape.tail}{extra}}}'
    )
    record = TokenRecord(
        id=jti,
        auth_server_id=shape.server_id,
        client_id=shape.client_id,
        granted_scope_names=shape.scope_names,
        created_at=float(iat),
        expires_at=float(exp),
    )
    return UnsignedToken(b64url(payload.encode("utf-8")), record, shape.expires_in, shape.scope_json)


def sign_access_token(unsigned: UnsignedToken, key: SigningKey, alg: str) -> str:
    """The compact JWS of a prepared token (header ``alg``/``typ``/``kid`` from the key's cache)."""
    return key.sign_jwt(unsigned.payload_segment, alg)
