"""The /_emulator test-control surface (docs/identity-control-api.md; issue 2 "Test control surface")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from tests.identity_issuer.helpers import Issuer, decode_segments

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def test_clock_freeze_advance_resume_reset(issuer: Issuer, control: str) -> None:
    """Issue 2: a virtual clock that issuance follows."""
    http = issuer.http
    state = http.post(f"{control}/clock/freeze", json={"at": 1_900_000_000}).json()
    assert state == {"now": 1_900_000_000, "frozen": True, "offset": 0.0}
    assert http.post(f"{control}/clock/advance", json={"seconds": 61}).json()["now"] == 1_900_000_061
    assert decode_segments(issuer.access_token())[1]["iat"] == 1_900_000_061
    assert http.post(f"{control}/clock/resume").json()["frozen"] is False
    assert http.post(f"{control}/clock/reset").json()["offset"] == 0.0
    assert http.get(f"{control}/clock").json()["frozen"] is False


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "x"}, {}, {"seconds": True}])
def test_clock_advance_rejects_bad_input_with_problem_json(
    issuer: Issuer, control: str, body: dict[str, Any]
) -> None:
    """common rules: bad input to the control API gives 400 problem+json."""
    response = issuer.http.post(f"{control}/clock/advance", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_key_rotation_publishes_both_kids_current_first(issuer: Issuer, control: str) -> None:
    """Issue 2 signing-key rotation; JWKS holds current then previous."""
    old_token = issuer.access_token()
    old_kid = decode_segments(old_token)[0]["kid"]
    state = issuer.http.post(f"{control}/auth-servers/{issuer.server.id}/rotate-keys").json()
    assert state["previous_kid"] == old_kid
    keys = issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]
    assert [k["kid"] for k in keys] == [state["current_kid"], old_kid]
    new_token = issuer.access_token()
    assert decode_segments(new_token)[0]["kid"] == state["current_kid"]
    old_key = jwt.PyJWK(keys[1]).key
    jwt.decode(old_token, old_key, algorithms=["RS256"], options={"verify_aud": False})
    assert issuer.introspect(old_token).json()["active"] is True


def test_key_rotation_without_keep_previous_drops_the_old_key(issuer: Issuer, control: str) -> None:
    """docs/identity-control-api.md: keep_previous=false removes the old key from the JWKS."""
    old_token = issuer.access_token()
    state = issuer.http.post(
        f"{control}/auth-servers/{issuer.server.id}/rotate-keys", json={"keep_previous": False}
    ).json()
    assert state["previous_kid"] is None
    keys = issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]
    assert [k["kid"] for k in keys] == [state["current_kid"]]
    assert issuer.introspect(old_token).json() == {"active": False}


def test_rotate_keys_of_unknown_server_is_404(issuer: Issuer, control: str) -> None:
    """common rules: well-formed errors from the control API."""
    response = issuer.http.post(f"{control}/auth-servers/nope/rotate-keys")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_fault_replaces_answers_for_n_calls_then_clears(issuer: Issuer, control: str) -> None:
    """Issue 2: fault injection per endpoint (status, body, headers) for N calls."""
    fault = {"endpoint": "token", "status": 503, "body": {"error": "temporarily_unavailable"},
             "headers": {"Retry-After": "3"}, "times": 2}  # fmt: skip
    created = issuer.http.post(f"{control}/faults", json=fault)
    assert created.status_code == 201
    for _ in range(2):
        response = issuer.token()
        assert response.status_code == 503
        assert response.json() == {"error": "temporarily_unavailable"}
        assert response.headers["retry-after"] == "3"
    assert issuer.token().status_code == 200
    assert issuer.http.get(f"{control}/faults").json()["data"] == []


def test_fault_scoped_to_one_auth_server_leaves_others_alone(issuer: Issuer, control: str) -> None:
    """docs/identity-control-api.md: faults optionally apply to one auth server."""
    other = issuer.emulator.store.create_server(name=f"calm-{issuer.server.id}", audience="x")
    issuer.http.post(
        f"{control}/faults", json={"endpoint": "jwks", "auth_server_id": issuer.server.id, "status": 500}
    )
    assert issuer.http.get(f"{issuer.url}/.well-known/jwks").status_code == 500
    assert issuer.http.get(f"{issuer.emulator.issuer_url_for(other)}/.well-known/jwks").status_code == 200
    assert issuer.http.get(f"{issuer.url}/.well-known/jwks").status_code == 500  # until cleared
    assert issuer.http.delete(f"{control}/faults").status_code == 204
    assert issuer.http.get(f"{issuer.url}/.well-known/jwks").status_code == 200


def test_fault_can_drop_the_connection(issuer: Issuer, control: str) -> None:
    """Issue 2: dropped connection."""
    issuer.http.post(
        f"{control}/faults", json={"endpoint": "introspect", "drop_connection": True, "times": 1}
    )
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{issuer.url}/introspect", data={"token": "x"}, auth=(issuer.client.id, issuer.secret))
    assert issuer.introspect("x").status_code == 200


def test_fault_latency_delays_the_normal_answer(issuer: Issuer, control: str) -> None:
    """Issue 2: latency injection (real time; this is the delay a gateway would see)."""
    issuer.http.post(f"{control}/faults", json={"endpoint": "discovery", "latency_ms": 150, "times": 1})
    response = issuer.http.get(f"{issuer.url}/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.15


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "nope", "status": 500},
        {"endpoint": "token"},
        {"endpoint": "token", "status": 99},
        {"endpoint": "token", "status": 500, "times": 0},
        {"endpoint": "token", "status": 500, "headers": {"X": "a\nb"}},
        {"endpoint": "token", "status": 500, "colour": "red"},
        [1, 2],
    ],
)
def test_invalid_fault_is_400_problem(issuer: Issuer, control: str, fault: object) -> None:
    """common rules: bad input to the control API gives 400 problem+json."""
    response = issuer.http.post(f"{control}/faults", json=fault)
    assert response.status_code == 400
    assert response.json()["invalid_parameters"]


def test_request_log_counts_and_redacts(issuer: Issuer, control: str) -> None:
    """Issue 2: request log per endpoint and auth server; secrets and tokens never appear."""
    sid = issuer.server.id
    token = issuer.access_token(basic=True)
    issuer.access_token()
    issuer.introspect(token)
    log = issuer.http.get(f"{control}/requests", params={"endpoint": "token", "auth_server_id": sid}).json()
    assert log["count"] == 2
    text = json.dumps(log)
    assert issuer.secret not in text
    assert [e["auth"]["scheme"] for e in log["data"]] == ["basic", "client_secret_post"]
    assert all(e["auth"]["client_id"] == issuer.client.id for e in log["data"])
    assert all(e["status"] == 200 for e in log["data"])
    introspections = issuer.http.get(
        f"{control}/requests", params={"endpoint": "introspect", "auth_server_id": sid}
    ).json()
    assert introspections["count"] == 1
    assert token not in json.dumps(introspections)
    expected = hashlib.sha256(token.encode()).hexdigest()[:8]
    assert introspections["data"][0]["form"]["token"] == f"[REDACTED sha256:{expected}]"


def test_request_log_can_be_cleared_and_rejects_unknown_endpoint(issuer: Issuer, control: str) -> None:
    """docs/identity-control-api.md: DELETE clears; unknown endpoint names are 400."""
    issuer.access_token()
    assert issuer.http.delete(f"{control}/requests").status_code == 204
    assert (
        issuer.http.get(f"{control}/requests", params={"auth_server_id": issuer.server.id}).json()["count"]
        == 0
    )
    assert issuer.http.get(f"{control}/requests", params={"endpoint": "bogus"}).status_code == 400


def test_mint_signs_arbitrary_claims_with_the_current_key(issuer: Issuer, control: str) -> None:
    """Issue 2: minting arbitrary claims/headers signed with an auth server's key."""
    response = issuer.http.post(
        f"{control}/auth-servers/{issuer.server.id}/mint",
        json={"header": {"x-test": 1}, "claims": {"exp": 1, "custom": "v", "jti": None}},
    ).json()
    header, claims = decode_segments(response["token"])
    assert header["x-test"] == 1 and header["kid"] == response["kid"]
    assert claims["exp"] == 1 and claims["custom"] == "v" and "jti" not in claims
    keys = issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]
    jwt.decode(response["token"], jwt.PyJWK(keys[0]).key, algorithms=["RS256"],
               options={"verify_exp": False, "verify_aud": False})  # fmt: skip


def test_mint_with_previous_and_unknown_keys(issuer: Issuer, control: str) -> None:
    """Issue 2: tokens signed with the previous key or an unpublished one."""
    url = f"{control}/auth-servers/{issuer.server.id}/mint"
    assert issuer.http.post(url, json={"key": "previous"}).status_code == 400
    old = issuer.http.get(f"{control}/auth-servers/{issuer.server.id}/keys").json()["current_kid"]
    issuer.http.post(f"{control}/auth-servers/{issuer.server.id}/rotate-keys")
    assert issuer.http.post(url, json={"key": "previous"}).json()["kid"] == old
    published = {k["kid"] for k in issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]}
    assert issuer.http.post(url, json={"key": "unknown"}).json()["kid"] not in published


def test_mint_alg_none_and_hs256_confusion(issuer: Issuer, control: str) -> None:
    """the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1): alg none and HS256 signed with the public key PEM."""
    url = f"{control}/auth-servers/{issuer.server.id}/mint"
    none_token = issuer.http.post(url, json={"header": {"alg": "none"}}).json()["token"]
    assert none_token.endswith(".")
    hs = issuer.http.post(url, json={"header": {"alg": "HS256", "kid": None}}).json()["token"]
    keys = issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]
    pem = jwt.PyJWK(keys[0]).key.public_bytes(encoding=_pem(), format=_spki())
    signing_input, _, signature = hs.rpartition(".")
    expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    assert "kid" not in decode_segments(hs)[0]


def _pem() -> Encoding:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def _spki() -> PublicFormat:
    from cryptography.hazmat.primitives.serialization import PublicFormat

    return PublicFormat.SubjectPublicKeyInfo


@pytest.mark.parametrize(
    "body", [{"key": "other"}, {"header": []}, {"claims": "x"}, {"sign_as": "ES256"}, {"defaults": "no"}]
)
def test_mint_bad_input_is_400(issuer: Issuer, control: str, body: dict[str, Any]) -> None:
    """common rules: 400 problem+json for bad control input."""
    response = issuer.http.post(f"{control}/auth-servers/{issuer.server.id}/mint", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_defects_can_be_listed_and_switched(issuer: Issuer, control: str) -> None:
    """defects.py: GET lists the catalogue; PUT replaces the enabled set; unknown names are 400."""
    listing = issuer.http.get(f"{control}/defects").json()
    assert len(listing["catalogue"]) >= 10 and listing["enabled"] == []
    assert issuer.http.put(f"{control}/defects", json={"enabled": ["aud_as_string"]}).json()["enabled"] == [
        "aud_as_string"
    ]
    assert decode_segments(issuer.access_token())[1]["aud"] == issuer.server.audience
    assert issuer.http.put(f"{control}/defects", json={"enabled": ["nope"]}).status_code == 400
    assert issuer.http.put(f"{control}/defects", content="{").status_code == 400
    assert issuer.http.put(f"{control}/defects", json={"enabled": []}).json()["enabled"] == []
