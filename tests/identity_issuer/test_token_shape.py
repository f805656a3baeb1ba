"""The token payload built from a shared shape (tokens.token_shape / prepare_access_token) is, byte for byte,
the compact JSON of the claims in B.4's order, whatever the audience, ids, issuer URL, scopes and custom claims."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kongformance.defects import DefectSwitches
from kongformance.identity.defects import ISSUER_DEFECTS
from kongformance.identity.store import AuthServer, Client, Scope
from kongformance.identity.tokens import (
    FIXED_DURATION_DEFECT_SECONDS,
    REGISTERED_CLAIMS,
    ScopeGrant,
    new_jti,
    prepare_access_token,
    token_shape,
)

NO_DEFECTS = DefectSwitches(ISSUER_DEFECTS)

# what the store can hold: the management API replaces lone surrogates with U+FFFD, as Go's decoder does
CHARS = st.characters(exclude_categories=["Cs"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(CHARS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(CHARS), inner, max_size=3),
    max_leaves=8,
)


def _server(audience: str) -> AuthServer:
    return AuthServer("srv-id", "srv", "", audience, "RS256", {}, None, "key", 0.0, 0.0)


def _client(client_id: str, duration: int) -> Client:
    return Client(client_id, "srv-id", "c", ["client_credentials"], [], [], None, duration, duration, True, [], {},
                  "client_secret_post", 0.0, 0.0)  # fmt: skip


def _payload(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@settings(max_examples=200, deadline=None)
@given(
    audience=st.text(CHARS),
    client_id=st.text(CHARS, min_size=1),
    issuer=st.text(CHARS),
    scope_names=st.lists(
        st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters=" "), min_size=1),
        max_size=3,
    ),
    custom=st.dictionaries(st.text(CHARS), json_values, max_size=4),
    now=st.floats(min_value=0, max_value=4e9),
    duration=st.integers(min_value=1, max_value=10**6),
)
def test_payload_is_the_compact_json_of_the_claims_in_order(
    audience: str, client_id: str, issuer: str, scope_names: list[str], custom: dict[str, Any], now: float,
    duration: int,
) -> None:  # fmt: skip
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: aud (array), client_id, exp = iat + duration, iat, iss, jti, nbf = iat, scope
    (space-delimited), sub = client id, then custom claims that do not collide with those names."""
    grant = ScopeGrant(
        tuple(Scope(n, "srv-id", n, "", False, False, True, 0.0, 0.0) for n in scope_names), True
    )
    shape = token_shape(_server(audience), _client(client_id, duration), issuer, grant, NO_DEFECTS)
    token = prepare_access_token(shape, custom, now)
    iat = int(now)
    expected = {
        "aud": [audience],
        "client_id": client_id,
        "exp": iat + duration,
        "iat": iat,
        "iss": issuer,
        "jti": token.record.id,
        "nbf": iat,
        "scope": " ".join(scope_names),
        "sub": client_id,
    }
    expected.update({k: v for k, v in custom.items() if k not in REGISTERED_CLAIMS})
    assert (
        _payload(token.payload_segment)
        == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert token.record.expires_at == iat + duration and token.record.created_at == iat
    assert token.record.granted_scope_names == tuple(scope_names)
    assert token.expires_in == duration - 1
    assert json.loads(token.scope_json) == " ".join(scope_names)


def test_shape_follows_the_defects_that_change_registered_claims() -> None:
    """defects.py: aud_as_string and exp_ignores_duration change the shape, not just one token."""
    defects = DefectSwitches(ISSUER_DEFECTS, ["aud_as_string", "exp_ignores_duration"])
    shape = token_shape(
        _server("https://api"), _client("c1", 60), "https://iss", ScopeGrant((), False), defects
    )
    claims = json.loads(_payload(prepare_access_token(shape, {}, 1000.0).payload_segment))
    assert claims["aud"] == "https://api"
    assert claims["exp"] == 1000 + FIXED_DURATION_DEFECT_SECONDS


def test_jti_values_are_distinct_version_4_uuids_across_threads() -> None:
    """https://developer.konghq.com/how-to/configure-kong-identity-oidc/: jti is a UUID, unique per token, also when several emulators share a process."""
    seen: list[list[str]] = []

    def draw() -> None:
        seen.append([new_jti() for _ in range(2000)])

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = [v for batch in seen for v in batch]
    assert len(set(values)) == len(values) == 8000
    parsed = [uuid.UUID(v) for v in values]
    assert all(
        u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == v
        for u, v in zip(parsed, values, strict=True)
    )
