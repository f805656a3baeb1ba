"""Replay of Kong's jwt Admin API spec (spec/03-plugins/16-jwt/02-api_spec.lua): jwt secrets under
``/consumers/{c}/jwt`` and ``/jwts``, and ``/jwts/{key}/consumer``, against the reference gateway.

The spec's POST block is one sequence (its later GET counts what the earlier requests left, L245-253): the
module fixture :func:`posted` sends it once, with that GET, and the tests assert on its answers. ``db:truncate("jwt_secrets")``
(L260, L380, L438, L481, L522) is :func:`truncate`, deleting every jwt secret through the Admin API; the spec's
RSA key fixture is a key generated per run.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.kong_specs.cite import ports, spec_url
from tests.kong_specs.kong import Kong

SPEC = spec_url("16-jwt/02-api_spec.lua")
CONDITIONAL = ["failed conditional validation given value of field 'algorithm'"]
NO_CONSUMER = "schema violation (consumer: required field missing)"


def public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture(scope="module")
def posted(kong: Kong) -> dict[str, httpx.Response]:
    """The spec's consumers bob and alice (L29, L43) and its POST block (L48-243), answers by ``it`` name."""
    kong.post("/consumers", {"username": "bob"})
    kong.post("/consumers", {"username": "alice"})
    pem = public_key()
    sent: dict[str, tuple[str, dict[str, Any]]] = {
        "creates": ("bob", {}),
        "tags": ("bob", {"tags": ["tag1", "tag2"]}),
        "any key and secret": ("bob", {"key": "bob2", "secret": "tooshort"}),
        "duplicate secret, alice": ("alice", {"key": "alice", "secret": "foobarbaz"}),
        "duplicate secret, bob": ("bob", {"key": "bobsyouruncle", "secret": "foobarbaz"}),
        "RS256 as json": ("bob", {"key": "bob4", "algorithm": "RS256", "rsa_public_key": pem}),
        "RS256 without key": ("bob", {"key": "bob5", "algorithm": "RS256"}),
        "RS256 invalid key": ("bob", {"key": "bob5", "algorithm": "RS256", "rsa_public_key": "test"}),
        "HS256 without secret": ("bob", {"key": "bob5", "algorithm": "HS256"}),
    }
    answers = {}
    for name, (consumer, body) in sent.items():
        if name == "RS256 as json":  # the spec posts the urlencoded one first (L139)
            form = {"key": "bob3", "algorithm": "RS256", "rsa_public_key": pem.replace("\n", "\r\n")}
            answers["RS256 urlencoded"] = kong.admin.post(f"/consumers/{consumer}/jwt/", data=form)
        answers[name] = kong.admin.post(f"/consumers/{consumer}/jwt/", json=body)
    for name in ("duplicate secret, alice", "duplicate secret, bob"):  # the block's lazy_teardown (L50-55)
        assert kong.admin.delete(f"/jwts/{answers[name].json()['id']}").status_code == 204
    answers["list"] = kong.admin.get("/consumers/bob/jwt/")  # the GET block right after it (L245-254)
    return answers


def bob_id(kong: Kong) -> str:
    return str(kong.admin.get("/consumers/bob").json()["id"])


def truncate(kong: Kong) -> None:
    """The spec's ``db:truncate("jwt_secrets")``."""
    for secret in kong.admin.get("/jwts?size=1000").json()["data"]:
        assert kong.admin.delete(f"/jwts/{secret['id']}").status_code == 204


def insert(kong: Kong, consumer: str = "bob") -> dict[str, Any]:
    """The spec's ``bp.jwt_secrets:insert`` for ``consumer``."""
    return kong.post(f"/consumers/{consumer}/jwt", {})


# ------------------------------------------------------------------------------------ /consumers/:consumer/jwt/
@ports(SPEC, 66, 67, 81, 83, 84, 85, 99, 100, 101, 116, 117, 118, 132, 133, 134, 137)
def test_creates_jwt_secrets(kong: Kong, posted: dict[str, httpx.Response]) -> None:
    assert posted["creates"].status_code == 201
    assert posted["creates"].json()["consumer"]["id"] == bob_id(kong)
    tagged = posted["tags"]
    assert tagged.status_code == 201
    assert (tagged.json()["consumer"]["id"], tagged.json()["tags"]) == (bob_id(kong), ["tag1", "tag2"])
    given = posted["any key and secret"]
    assert (given.status_code, given.json()["key"], given.json()["secret"]) == (201, "bob2", "tooshort")
    alice, bob = posted["duplicate secret, alice"], posted["duplicate secret, bob"]
    assert (alice.status_code, alice.json()["key"], alice.json()["secret"]) == (201, "alice", "foobarbaz")
    assert (bob.status_code, bob.json()["key"], bob.json()["secret"]) == (201, "bobsyouruncle", "foobarbaz")
    assert alice.json()["secret"] == bob.json()["secret"]


@ports(SPEC, 158, 159, 160, 177, 178, 179)
def test_accepts_an_rs256_public_key(posted: dict[str, httpx.Response]) -> None:
    for name, key in (("RS256 urlencoded", "bob3"), ("RS256 as json", "bob4")):
        assert posted[name].status_code == 201, posted[name].text
        assert posted[name].json()["key"] == key


@ports(SPEC, 193, 194, 195, 215, 216, 217)
def test_rs256_needs_a_valid_public_key(posted: dict[str, httpx.Response]) -> None:
    for name, problem in (
        ("RS256 without key", "required field missing"),
        ("RS256 invalid key", "invalid key"),
    ):
        assert posted[name].status_code == 400, posted[name].text
        assert posted[name].json()["fields"] == {"rsa_public_key": problem, "@entity": CONDITIONAL}


@ports(SPEC, 236, 237, 238, 239, 240)
def test_hs256_generates_a_secret(posted: dict[str, httpx.Response]) -> None:
    answer = posted["HS256 without secret"]
    assert answer.status_code == 201, answer.text
    secret = answer.json()["secret"]
    assert isinstance(secret, str)
    assert len(secret) == 32
    assert re.fullmatch(r"[A-Za-z0-9]+", secret)


@ports(SPEC, 251, 252)
def test_lists_a_consumers_jwt_secrets(posted: dict[str, httpx.Response]) -> None:
    resp = posted["list"]
    assert resp.status_code == 200
    assert len(resp.json()["data"]) == 6


# --------------------------------------------------------------------------------- /consumers/:consumer/jwt/:id
@pytest.mark.parametrize("by", ["id", "key"])
@ports(SPEC, 272, 279, 313, 315, 329, 331)
def test_gets_and_patches_a_jwt_secret(kong: Kong, posted: dict[str, httpx.Response], by: str) -> None:
    truncate(kong)
    secret = insert(kong)
    assert kong.admin.get(f"/consumers/bob/jwt/{secret[by]}").status_code == 200
    resp = kong.admin.patch(
        f"/consumers/bob/jwt/{secret[by]}", json={"key": "alice", "secret": f"newsecret-{by}"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["secret"] == f"newsecret-{by}"


@ports(SPEC, 293, 294, 295)
def test_put_creates_a_jwt_secret_by_key(kong: Kong, posted: dict[str, httpx.Response]) -> None:
    truncate(kong)
    resp = kong.admin.put("/consumers/bob/jwt/abcd", json={})
    assert resp.status_code == 200
    assert (resp.json()["key"], resp.json()["consumer"]["id"]) == ("abcd", bob_id(kong))


@ports(SPEC, 345, 356, 366)
def test_deletes_a_jwt_secret_and_404s_on_a_missing_one(
    kong: Kong, posted: dict[str, httpx.Response]
) -> None:
    truncate(kong)
    assert (
        kong.admin.request("DELETE", f"/consumers/bob/jwt/{insert(kong)['id']}", json={}).status_code == 204
    )
    assert kong.admin.request("DELETE", "/consumers/bob/jwt/blah", json={}).status_code == 404
    missing = "/consumers/bob/jwt/00000000-0000-0000-0000-000000000000"
    assert kong.admin.request("DELETE", missing, json={}).status_code == 404


# --------------------------------------------------------------------------------------------------------- /jwts
@ports(SPEC, 393, 395, 396, 403, 405, 406, 413, 415, 416, 426, 428, 429, 431, 432)
def test_lists_and_paginates_jwts(kong: Kong, posted: dict[str, httpx.Response]) -> None:
    if kong.admin.get("/consumers/bob-the-buidler").status_code == 404:
        kong.post("/consumers", {"username": "bob-the-buidler"})
    truncate(kong)
    insert(kong)
    insert(kong, "bob-the-buidler")
    for path in ("/jwts/", "/jwts"):
        resp = kong.admin.get(path)
        assert resp.status_code == 200
        assert isinstance(resp.json()["data"], list)
        assert len(resp.json()["data"]) == 2
    first = kong.admin.get("/jwts?size=1")
    assert first.status_code == 200
    assert len(first.json()["data"]) == 1
    second = kong.admin.get("/jwts", params={"size": 1, "offset": first.json()["offset"]})
    assert second.status_code == 200
    assert len(second.json()["data"]) == 1
    assert first.json()["data"] != second.json()["data"]
    assert second.json().get("offset") is None


@pytest.mark.parametrize("method", ["POST", "PUT"])
@ports(SPEC, 452, 454, 471, 473, 493, 495, 511, 513)
def test_a_jwt_secret_needs_a_consumer(kong: Kong, posted: dict[str, httpx.Response], method: str) -> None:
    truncate(kong)
    path, body = ("/jwts/key", {}) if method == "PUT" else ("/jwts", {"key": "key"})
    resp = kong.admin.request(method, path, json=body)
    assert (resp.status_code, resp.json()["message"]) == (400, NO_CONSUMER)
    resp = kong.admin.request(method, path, json={**body, "consumer": {"id": bob_id(kong)}})
    assert resp.status_code == (200 if method == "PUT" else 201)
    assert resp.json()["key"] == "key"


@pytest.mark.parametrize("by", ["id", "key"])
@ports(SPEC, 532, 534, 541, 543, 550, 557)
def test_gets_the_consumer_of_a_jwt(kong: Kong, posted: dict[str, httpx.Response], by: str) -> None:
    truncate(kong)
    secret = insert(kong)
    resp = kong.admin.get(f"/jwts/{secret[by]}/consumer")
    assert resp.status_code == 200
    assert resp.json() == kong.admin.get("/consumers/bob").json()
    missing = "00000000-0000-4000-8000-000000000000" if by == "id" else "f3Jd8sLq0pZx"
    assert kong.admin.get(f"/jwts/{missing}/consumer").status_code == 404
