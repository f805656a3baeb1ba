"""The token endpoint's fast path (identity.interception.TokenFastPath) and signing threads (keys.JwtSigners).

Performance work must not change behaviour: the fast path answers exactly as the Starlette route does
(https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow, RFC 6749 5.1/5.2), still logs and injects faults (issue 2, test control surface),
and concurrent requests each get their own correctly signed token (B.4).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.identity_issuer.helpers import Issuer, decode_segments

from kongformance.identity.client_auth import parse_form
from kongformance.identity.keys import JwtSigners, SigningKey
from kongformance.identity.oauth_errors import OAuthError

FORM = "application/x-www-form-urlencoded"


def _post_both(issuer: Issuer, content: bytes, content_type: str = FORM) -> tuple[httpx.Response, ...]:
    """The same token request through the whole app (fast path) and through Starlette's router alone."""
    answers = []
    for app in (issuer.emulator.app, issuer.emulator.router):

        async def call(app: object = app) -> httpx.Response:
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test") as client:
                path = issuer.url.split("/", 3)[3]
                return await client.post(
                    f"/{path}/oauth/token", content=content, headers={"content-type": content_type}
                )

        answers.append(asyncio.run(call()))
    return tuple(answers)


def test_fast_path_answers_a_grant_exactly_as_the_router_does(issuer: Issuer) -> None:
    """B.3: same status, headers (no-store, JSON) and fields whichever way the request is routed."""
    body = f"grant_type=client_credentials&client_id={issuer.client.id}&client_secret={issuer.secret}"
    fast, routed = _post_both(issuer, body.encode())
    assert fast.status_code == routed.status_code == 200
    for name in ("content-type", "cache-control", "pragma"):
        assert fast.headers[name] == routed.headers[name]
    assert fast.json().keys() == routed.json().keys()
    assert fast.json()["token_type"] == routed.json()["token_type"] == "Bearer"
    assert fast.json()["expires_in"] == routed.json()["expires_in"]


def test_fast_path_answers_errors_exactly_as_the_router_does(issuer: Issuer) -> None:
    """RFC 6749 5.2: a wrong secret is invalid_client (401) on both paths, with the same body."""
    body = f"grant_type=client_credentials&client_id={issuer.client.id}&client_secret=wrong"
    fast, routed = _post_both(issuer, body.encode())
    assert fast.status_code == routed.status_code == 401
    assert fast.json() == routed.json()
    assert fast.headers["cache-control"] == routed.headers["cache-control"] == "no-store"


def test_fast_path_requests_are_logged_with_their_status(issuer: Issuer) -> None:
    """Issue 2 request log: token calls answered by the fast path are counted, with the status sent."""
    log = issuer.emulator.requests
    before = log.count("token", issuer.server.id)
    assert issuer.token().status_code == 200
    assert issuer.token(secret="wrong").status_code == 401
    assert log.count("token", issuer.server.id) == before + 2
    assert [e.status for e in log.entries("token", issuer.server.id)[-2:]] == [200, 401]


def test_token_path_with_a_nested_issuer_key_is_left_to_the_router(issuer: Issuer) -> None:
    """B.1: only ``/{issuer_key}/auth/oauth/token`` is an issuer; anything deeper is an unknown path."""
    base = issuer.url.rsplit("/", 2)[0]
    response = issuer.http.post(f"{base}/a/b/auth/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_concurrent_grants_each_get_their_own_valid_token(issuer: Issuer) -> None:
    """B.4: under concurrency (signing threads and the loop both sign) every answer is a distinct JWT that
    verifies with the auth server's key and is recorded for introspection."""
    url = f"{issuer.url}/oauth/token"
    form = {"grant_type": "client_credentials", "client_id": issuer.client.id, "client_secret": issuer.secret}

    async def grab() -> list[str]:
        async with httpx.AsyncClient(timeout=30) as client:
            answers = await asyncio.gather(*(client.post(url, data=form) for _ in range(24)))
        assert all(a.status_code == 200 for a in answers)
        return [a.json()["access_token"] for a in answers]

    tokens = asyncio.run(grab())
    public = issuer.emulator.keys.ring(issuer.server.id).current.private_key.public_key()
    jtis = set()
    for token in tokens:
        claims = jwt.decode(token, public, algorithms=["RS256"], audience=issuer.server.audience)
        jtis.add(claims["jti"])
        assert issuer.emulator.store.get_token(claims["jti"]) is not None
    assert len(jtis) == len(tokens)


def test_signing_threads_hand_back_the_signature_of_each_job() -> None:
    """B.4: a signature made on a signing thread is the one for that payload, and errors reach the caller."""
    key = SigningKey.create()
    signers = JwtSigners(threads=2)

    async def run() -> tuple[list[str], BaseException | None]:
        jwts = await asyncio.gather(*(signers.sign(key, f"payload{n}", "RS256") for n in range(6)))
        try:
            await signers.sign(key, "payload", "HS256")
        except ValueError as err:
            return list(jwts), err
        return list(jwts), None

    jwts, error = asyncio.run(run())
    for n, compact in enumerate(jwts):
        header, payload, _ = compact.split(".")
        assert payload == f"payload{n}"
        assert header == key.header_segment("RS256")
    assert error is not None and "HS256" in str(error)


def test_signing_threads_stop_when_their_owner_is_gone() -> None:
    """Emulators created and dropped by tests leave no signing threads behind."""
    key = SigningKey.create()
    signers: JwtSigners | None = JwtSigners(threads=2)
    before = set(threading.enumerate())

    async def once(owner: JwtSigners) -> str:
        return await owner.sign(key, "payload", "RS256")

    assert signers is not None
    asyncio.run(once(signers))
    started = [
        t for t in threading.enumerate() if t not in before and t.name.startswith("kongformance-sign-")
    ]
    assert len(started) == 2
    signers = None
    gc.collect()
    for thread in started:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in started)


def test_issued_token_is_recorded_as_a_compact_slots_record(issuer: Issuer) -> None:
    """A.8 token records stay small (issue 2 memory target): no per-record __dict__, scopes as a tuple."""
    _, claims = decode_segments(issuer.access_token())
    record = issuer.emulator.store.get_token(claims["jti"])
    assert record is not None and not hasattr(record, "__dict__")
    assert list(record.granted_scope_names) == [n for n in claims["scope"].split(" ") if n]


@given(
    st.lists(
        st.tuples(
            st.text(st.sampled_from("ab=_-.~é"), max_size=4), st.text(st.sampled_from("xy=é"), max_size=3)
        ),
        max_size=4,
    ),
    st.sampled_from(["&", "&&"]),
)
def test_form_parsing_shortcut_matches_parse_qsl(pairs: list[tuple[str, str]], glue: str) -> None:
    """RFC 6749 3.2 / B.3: bodies without escapes parse as urllib's parse_qsl would (repeats rejected)."""
    body = glue.join(f"{k}={v}" if v or "=" in k else k for k, v in pairs)
    expected = parse_qsl(body, keep_blank_values=True)
    names = [k for k, _ in expected]
    if len(set(names)) != len(names):
        with pytest.raises(OAuthError):
            parse_form(FORM, body.encode())
    else:
        assert parse_form(FORM, body.encode()) == dict(expected)


def test_disabling_a_secret_stops_identical_requests_at_once(issuer: Issuer) -> None:
    """A.7/B.3: remembered client authentication never outlives a management write."""
    assert issuer.token().status_code == 200
    assert issuer.token().status_code == 200
    store = issuer.emulator.store
    (secret,) = store.secrets_of(issuer.server.id, issuer.client.id)
    store.set_secret_enabled(issuer.server.id, issuer.client.id, secret.id, False)
    assert issuer.token().status_code == 401


def test_disabling_a_scope_changes_the_grant_of_identical_requests(issuer: Issuer) -> None:
    """B.5: a default scope disabled after identical grants is no longer granted."""
    store = issuer.emulator.store
    scope = store.create_scope(issuer.server.id, name="fast-default", default=True)
    client, secret = issuer.add_client(allow_all_scopes=True)
    for _ in range(2):
        answer = issuer.token(client.id, secret)
        assert answer.json()["scope"] == "fast-default"
    store.update_scope(issuer.server.id, scope.id, {"enabled": False})
    assert "scope" not in issuer.token(client.id, secret).json()


def test_a_defect_switched_on_applies_to_the_next_identical_request(issuer: Issuer) -> None:
    """Mutation check: defects act at once, whatever was remembered (B.5 default scopes, drop_default_scopes)."""
    store = issuer.emulator.store
    store.create_scope(issuer.server.id, name="fast-default-2", default=True)
    client, secret = issuer.add_client(allow_all_scopes=True)
    assert issuer.token(client.id, secret).json()["scope"] == "fast-default-2"
    issuer.emulator.defects.enable("drop_default_scopes")
    assert "scope" not in issuer.token(client.id, secret).json()
