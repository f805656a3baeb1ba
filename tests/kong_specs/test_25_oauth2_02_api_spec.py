"""Replay of Kong's oauth2 Admin API spec (spec/03-plugins/25-oauth2/02-api_spec.lua): the oauth2 credentials
under ``/consumers/{c}/oauth2`` and ``/oauth2``, and ``/oauth2_tokens``, against the reference gateway.

The spec's ``secret.needs_rehash`` and ``secret.verify`` (Kong's Lua module kong.plugins.oauth2.secret) are
re-implemented here from its source at the tag (:func:`needs_rehash`, :func:`verify`): PBKDF2 is the only
algorithm enabled, a current hash starts with ``$pbkdf2-sha512$i=10000,l=32``. The spec inserts tokens through
Kong's DAO in a ``before_each`` (L822); the replay inserts them through the Admin API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from tests.kong_specs.cite import ports, spec_url
from tests.kong_specs.kong import Kong

SPEC = spec_url("25-oauth2/02-api_spec.lua")
REQUIRED = "required field missing"
BOTH = {"@entity": ["all or none of these fields must be set: 'hash_secret', 'client_secret'"]}
NO_CONSUMER = "schema violation (consumer: required field missing)"


def needs_rehash(value: Any) -> bool:
    """kong/plugins/oauth2/secret.lua@3.9.0 ``needs_rehash``: not a string, or not the current PBKDF2 prefix."""
    return not (isinstance(value, str) and value.startswith("$pbkdf2-sha512$i=10000,l=32"))


def verify(secret: str, value: str) -> bool:
    """kong/plugins/oauth2/secret.lua@3.9.0 ``verify``: re-derive a ``$pbkdf2-<digest>$i=N,l=L$salt$hash``."""
    if not value.startswith("$pbkdf2"):
        return False
    _, scheme, params, salt, digest = value.split("$")
    options = dict(item.split("=", 1) for item in params.split(","))

    def unb64(text: str) -> bytes:
        return base64.b64decode(text + "=" * (-len(text) % 4))

    derived = hashlib.pbkdf2_hmac(scheme.split("-", 1)[1], secret.encode(), unb64(salt), int(options["i"]),
                                  int(options["l"]))  # fmt: skip
    return hmac.compare_digest(derived, unb64(digest))


def call(kong: Kong, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    resp = kong.admin.request(method, path, json=body)
    return resp.status_code, (resp.json() if resp.content else None)


@pytest.fixture(scope="module")
def api(kong: Kong) -> Kong:
    """The spec's consumers (bob, sally, alice; get_test with three credentials, L359-371) and a service."""
    for name in ("bob", "sally", "alice", "get_test"):
        kong.post("/consumers", {"username": name})
    for i in range(1, 4):
        kong.post(
            "/consumers/get_test/oauth2", {"name": f"app{i}", "redirect_uris": ["https://127.0.0.1:15556"]}
        )
    kong.post("/services", {"name": "oauth2_token", "host": "oauth2_token.test"})
    return kong


def assert_lists(kong: Kong, path: str, count: int) -> None:
    status, body = call(kong, "GET", path)
    assert status == 200
    assert isinstance(body["data"], list)
    assert len(body["data"]) == count


def bob(kong: Kong) -> str:
    return str(kong.admin.get("/consumers/bob").json()["id"])


def credential(kong: Kong, consumer: str = "bob") -> dict[str, Any]:
    """The spec's ``before_each`` credential (L405-411)."""
    return kong.post(
        f"/consumers/{consumer}/oauth2", {"name": "test app", "redirect_uris": ["https://127.0.0.1:15556"]}
    )


# ------------------------------------------------------------------------------- /consumers/:consumer/oauth2/
@ports(SPEC, 68, 69, 70, 71, 83, 84, 85, 86)
def test_creates_a_credential(api: Kong) -> None:
    status, body = call(
        api, "POST", "/consumers/bob/oauth2", {"name": "Test APP", "redirect_uris": ["http://google.test/"]}
    )
    assert status == 201
    assert (body["consumer"]["id"], body["name"], body["redirect_uris"]) == (
        bob(api),
        "Test APP",
        ["http://google.test/"],
    )
    status, body = call(api, "POST", "/consumers/bob/oauth2", {"name": "Test APP"})
    assert status == 201
    assert (body["consumer"]["id"], body["name"], body["redirect_uris"]) == (bob(api), "Test APP", None)


@ports(SPEC, 101, 103, 104, 105)
def test_creates_a_credential_with_tags(api: Kong) -> None:
    status, body = call(api, "POST", "/consumers/bob/oauth2",
                        {"name": "Tags APP", "redirect_uris": ["http://example.test/"], "tags": ["tag1", "tag2"]})  # fmt: skip
    assert status == 201
    assert body["consumer"]["id"] == bob(api)
    assert body["tags"][0] == "tag1"
    assert body["tags"][1] == "tag2"


@ports(SPEC, 119, 120, 121, 122)
def test_creates_a_credential_with_multiple_redirect_uris(api: Kong) -> None:
    uris = ["http://google.test/", "http://google.example/"]
    status, body = call(api, "POST", "/consumers/bob/oauth2", {"name": "Test APP", "redirect_uris": uris})
    assert status == 201
    assert (body["consumer"]["id"], body["name"], body["redirect_uris"]) == (bob(api), "Test APP", uris)


@ports(SPEC, 137, 150)
def test_two_credentials_may_share_a_client_secret(api: Kong) -> None:
    body = {"name": "Test APP", "redirect_uris": ["http://google.test/"], "client_secret": "secret123"}
    assert call(api, "POST", "/consumers/bob/oauth2", body)[0] == 201
    assert call(api, "POST", "/consumers/sally/oauth2", body)[0] == 201


@pytest.mark.parametrize(
    ("given", "hashed"),
    [
        pytest.param(None, True, id="hashed, generated"),
        pytest.param("test", True, id="hashed, given"),
        pytest.param(None, False, id="clear, generated"),
        pytest.param("test", False, id="clear, given"),
    ],
)
@ports(SPEC, 166, 167, 168, 184, 185, 186, 187, 188, 202, 203, 204, 219, 220, 221, 222, 223)
def test_hash_secret_stores_kongs_pbkdf2_hash(api: Kong, given: str | None, hashed: bool) -> None:
    request: dict[str, Any] = {"name": "Test APP", "redirect_uris": ["http://google.test/"]}
    if hashed:
        request["hash_secret"] = True
    if given is not None:
        request["client_secret"] = given
    status, body = call(api, "POST", "/consumers/bob/oauth2", request)
    assert status == 201
    assert body["hash_secret"] is hashed
    assert needs_rehash(body["client_secret"]) is not hashed
    if given is not None:
        assert verify("test", body["client_secret"]) is hashed
        assert verify("invalid", body["client_secret"]) is False


@pytest.mark.parametrize(
    ("uris", "errors"),
    [
        (["not-valid"], ["cannot parse 'not-valid'"]),
        (["http://test.test/#with-fragment"], ["fragment not allowed in 'http://test.test/#with-fragment'"]),
        (["http://valid.test", "not-valid"], [None, "cannot parse 'not-valid'"]),
        (["http://valid.test", "http://test.test/#with-fragment"],
         [None, "fragment not allowed in 'http://test.test/#with-fragment'"]),
    ],
)  # fmt: skip
@ports(SPEC, 251, 253, 266, 268, 281, 283, 296, 298)
def test_refuses_invalid_redirect_uris(api: Kong, uris: list[str], errors: list[str | None]) -> None:
    status, body = call(api, "POST", "/consumers/bob/oauth2", {"name": "Test APP", "redirect_uris": uris})
    assert (status, body["fields"]) == (400, {"redirect_uris": errors})


@pytest.mark.parametrize("method", ["POST", "PUT"])
@ports(SPEC, 235, 237, 351, 353)
def test_a_credential_needs_a_name(api: Kong, method: str) -> None:
    path = "/consumers/bob/oauth2" + ("/client_two" if method == "PUT" else "")
    status, body = call(api, method, path, {})
    assert (status, body["fields"]) == (400, {"name": REQUIRED})


@ports(SPEC, 319, 320, 321, 322, 323, 335, 336, 337, 338, 339)
def test_put_creates_a_credential_by_client_id(api: Kong) -> None:
    for uris in (["http://google.test/"], None):
        request = {"name": "Test APP", **({"redirect_uris": uris} if uris else {})}
        status, body = call(api, "PUT", "/consumers/bob/oauth2/client_one", request)
        assert status == 200
        assert body["consumer"]["id"] == bob(api)
        assert (body["name"], body["client_id"], body["redirect_uris"]) == ("Test APP", "client_one", uris)


@ports(SPEC, 382, 384, 385)
def test_lists_a_consumers_credentials(api: Kong) -> None:
    assert_lists(api, "/consumers/get_test/oauth2", 3)


# ---------------------------------------------------------------------------- /consumers/:consumer/oauth2/:id
@pytest.mark.parametrize("by", ["id", "client_id"])
@ports(SPEC, 423, 425, 432, 434, 448, 454, 461, 467)
def test_gets_a_credential_of_its_consumer_only(api: Kong, by: str) -> None:
    cred = credential(api)
    status, body = call(api, "GET", f"/consumers/bob/oauth2/{cred[by]}")
    assert (status, body["id"]) == (200, cred["id"])
    assert call(api, "GET", f"/consumers/alice/oauth2/{cred[by]}")[0] == 404


@pytest.mark.parametrize("by", ["id", "client_id"])
@ports(SPEC, 485, 487, 502, 504)
def test_patches_a_credential(api: Kong, by: str) -> None:
    cred = credential(api)
    status, body = call(api, "PATCH", f"/consumers/bob/oauth2/{cred[by]}", {"name": "4321"})
    assert status == 200
    assert body["name"] != cred["name"]


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        pytest.param(
            {"redirect_uris": ["not-valid"]}, {"redirect_uris": ["cannot parse 'not-valid'"]}, id="uris"
        ),
        pytest.param({"client_secret": "test"}, BOTH, id="secret without hash_secret"),
        pytest.param({"hash_secret": True}, BOTH, id="hash_secret without secret"),
    ],
)
@ports(SPEC, 518, 520, 533, 535, 552, 554)
def test_refuses_an_invalid_patch(api: Kong, patch: dict[str, Any], fields: dict[str, Any]) -> None:
    status, body = call(api, "PATCH", f"/consumers/bob/oauth2/{credential(api)['id']}", patch)
    assert (status, body["fields"]) == (400, fields)


@ports(SPEC, 569, 577, 584)
def test_deletes_a_credential_and_404s_on_a_missing_one(api: Kong) -> None:
    assert call(api, "DELETE", f"/consumers/bob/oauth2/{credential(api)['id']}")[0] == 204
    assert call(api, "DELETE", "/consumers/bob/oauth2/blah")[0] == 404
    assert call(api, "DELETE", "/consumers/bob/oauth2/00000000-0000-0000-0000-000000000000")[0] == 404


# ----------------------------------------------------------------------------------- /oauth2 and /oauth2/:id
@pytest.mark.parametrize("method", ["POST", "PUT"])
@ports(SPEC, 617, 619, 637, 639, 671, 673, 691, 693, 694)
def test_a_credential_needs_a_consumer(api: Kong, method: str) -> None:
    path = "/oauth2/client-1" if method == "PUT" else "/oauth2"
    request: dict[str, Any] = {"name": "test", "redirect_uris": ["http://localhost/"]}
    status, body = call(api, method, path, request)
    assert (status, body["message"]) == (400, NO_CONSUMER)
    status, body = call(api, method, path, {**request, "consumer": {"id": bob(api)}})
    assert status == (200 if method == "PUT" else 201)
    assert body["name"] == "test"
    if method == "PUT":
        assert body["client_id"] == "client-1"


# ------------------------------------------------------------------------------------------------ /oauth2_tokens
def token_body(kong: Kong, cred: dict[str, Any]) -> dict[str, Any]:
    service = kong.admin.get("/services/oauth2_token").json()
    return {"credential": {"id": cred["id"]}, "service": {"id": service["id"]}, "expires_in": 10}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@ports(SPEC, 733, 734, 735, 736, 737, 738, 739, 868, 869, 870, 871, 872, 873)
def test_creates_a_token(api: Kong, method: str) -> None:
    cred = credential(api)
    path = "/oauth2_tokens/foobar" if method == "PUT" else "/oauth2_tokens"
    status, body = call(api, method, path, token_body(api, cred))
    assert status == (200 if method == "PUT" else 201)
    assert (body["credential"]["id"], body["expires_in"], body["token_type"]) == (cred["id"], 10, "bearer")
    assert body["access_token"] == "foobar" if method == "PUT" else len(body["access_token"]) > 0
    assert body["service"]["id"]
    assert body["refresh_token"] is None


@pytest.mark.parametrize("method", ["POST", "PUT"])
@ports(SPEC, 751, 753, 885, 887)
def test_a_token_needs_a_credential_and_expires_in(api: Kong, method: str) -> None:
    path = "/oauth2_tokens/foobar" if method == "PUT" else "/oauth2_tokens"
    status, body = call(api, method, path, {})
    assert (status, body["fields"]) == (400, {"expires_in": REQUIRED, "credential": REQUIRED})


@ports(SPEC, 794, 796, 797)
def test_lists_tokens(api: Kong) -> None:
    """The spec's earlier describes removed their consumers, and so their tokens (L715-718): so here."""
    for token in api.admin.get("/oauth2_tokens").json()["data"]:
        assert call(api, "DELETE", f"/oauth2_tokens/{token['id']}")[0] == 204
    body = token_body(api, credential(api))
    for _ in range(3):
        api.post("/oauth2_tokens", body)
    assert_lists(api, "/oauth2_tokens", 3)


@pytest.mark.parametrize("by", ["id", "access_token"])
@ports(SPEC, 839, 841, 848, 850, 909, 911, 926, 928)
def test_gets_and_patches_a_token(api: Kong, by: str) -> None:
    token = api.post("/oauth2_tokens", token_body(api, credential(api)))
    status, body = call(api, "GET", f"/oauth2_tokens/{token[by]}")
    assert (status, body["id"]) == (200, token["id"])
    status, body = call(
        api, "PATCH", f"/oauth2_tokens/{token[by]}", {"expires_in": 20 if by == "id" else 400}
    )
    assert status == 200
    assert body["expires_in"] != token["expires_in"]


@ports(SPEC, 942, 944)
def test_refuses_an_invalid_token_patch(api: Kong) -> None:
    token = api.post("/oauth2_tokens", token_body(api, credential(api)))
    status, body = call(api, "PATCH", f"/oauth2_tokens/{token['id']}", {"expires_in": "hello"})
    assert (status, body["fields"]) == (400, {"expires_in": "expected an integer"})


@ports(SPEC, 955, 963, 969)
def test_deletes_tokens_and_204s_on_missing_ones(api: Kong) -> None:
    token = api.post("/oauth2_tokens", token_body(api, credential(api)))
    assert call(api, "DELETE", f"/oauth2_tokens/{token['id']}")[0] == 204
    assert call(api, "DELETE", "/oauth2_tokens/blah")[0] == 204
    assert call(api, "DELETE", "/oauth2_tokens/00000000-0000-0000-0000-000000000000")[0] == 204
