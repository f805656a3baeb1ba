"""The set-up and the request cases shared by the replays of Kong's oauth2 access spec
(spec/03-plugins/25-oauth2/03-access_spec.lua, split over ``test_25_oauth2_03_access_spec*.py``).

The spec's ``lazy_setup`` (consumers bob and no-body, the oauth2 applications clientid123..clientid11211, the
routes oauth2.test .. oauth2_21.test, oauth2__c.test, example-path.test and /somepath with the blueprint's
oauth2 config merged with each route's) is built through our Admin API by :func:`build`. Kong starts with
``trusted_ips = 127.0.0.1`` in this spec, and so does the stack (fixture ``oauth2_access`` in conftest.py).
The spec's helpers ``provision_code``, ``provision_token`` and ``get_pkce_tokens`` (L31-138) are
:func:`provision_code`, :func:`provision_token` and :func:`pkce_challenge`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from tests.kong_specs.cite import MASTER, spec_url
from tests.kong_specs.kong import Kong

SPEC = spec_url("25-oauth2/03-access_spec.lua")
MASTER_SPEC = spec_url("25-oauth2/03-access_spec.lua", MASTER)

# spec/fixtures/blueprints.lua (3.9.0) oauth2_plugins: the config every plugin of the spec starts from
BLUEPRINT = {
    "scopes": ["email", "profile"],
    "enable_authorization_code": True,
    "mandatory_scope": True,
    "provision_key": "provision123",
    "token_expiration": 5,
    "enable_implicit_grant": True,
}
SCOPES = ["email", "profile", "user.email"]
GLOBAL = {"scopes": SCOPES, "global_credentials": True}
MISSING_CONSUMER = "00000000-0000-4000-8000-00000000dead"  # the spec's uuid.uuid(): a consumer nobody created
NO_BODY_ID = "<the id of consumer no-body>"  # filled in by build()
ROUTES: dict[str, dict[str, Any]] = {
    "oauth2.test": {"scopes": SCOPES},
    "example-path.test": {},
    "/somepath": {},
    "oauth2_3.test": {"hide_credentials": True},
    "oauth2_4.test": {"enable_client_credentials": True, "enable_authorization_code": False},
    "oauth2_5.test": {"enable_password_grant": True, "enable_authorization_code": False, "realm": "test-oauth2"},
    "oauth2_6.test": {"scopes": SCOPES, "provision_key": "provision123", "accept_http_if_already_terminated": True},
    "oauth2_7.test": {"scopes": SCOPES, "anonymous": NO_BODY_ID},
    "oauth2_8.test": GLOBAL,
    "oauth2_9.test": GLOBAL,
    "oauth2_10.test": {**GLOBAL, "anonymous": MISSING_CONSUMER},
    "oauth2_11.test": {**GLOBAL, "token_expiration": 7, "auth_header_name": "custom_header_name"},
    "oauth2_12.test": {**GLOBAL, "auth_header_name": "custom_header_name", "hide_credentials": True},
    "oauth2_13.test": {**GLOBAL, "reuse_refresh_token": True},
    "oauth2__c.test": {"scopes": SCOPES, "anonymous": "no-body"},  # the spec: anonymous_user.username
    "oauth2_14.test": {**GLOBAL, "pkce": "none"},
    "oauth2_15.test": {**GLOBAL, "pkce": "strict"},
    "oauth2_16.test": {**GLOBAL, "pkce": "lax"},
    "oauth2_17.test": GLOBAL,
    "oauth2_18.test": {"scopes": ["scope18"], "global_credentials": True},
    "oauth2_19.test": {"scopes": ["scope19"], "global_credentials": True},
    "oauth2_20.test": {"scopes": ["scope20"], "global_credentials": True},
    "oauth2_21.test": {"scopes": ["scope20", "scope21"], "global_credentials": True},
}  # fmt: skip
APPLICATIONS: list[dict[str, Any]] = [
    {"client_id": "clientid123", "client_secret": "secret123", "hash_secret": True,
     "redirect_uris": ["http://google.test/kong"], "name": "testapp"},
    {"client_id": "clientid789", "client_secret": "secret789",
     "redirect_uris": ["http://google.test/kong?foo=bar&code=123"], "name": "testapp2"},
    {"client_id": "clientid333", "client_secret": "secret333", "hash_secret": True,
     "redirect_uris": ["http://google.test/kong"], "name": "testapp3"},
    {"client_id": "clientid456", "client_secret": "secret456",
     "redirect_uris": ["http://one.test/one/", "http://two.test/two"], "name": "testapp3"},
    {"client_id": "clientid1011", "client_secret": "secret1011", "hash_secret": True,
     "redirect_uris": ["http://google.test/kong"], "name": "testapp31"},
    {"client_id": "clientid10112", "client_secret": "secret10112", "redirect_uris": None, "name": "testapp311"},
    {"client_id": "clientid11211", "client_secret": "secret11211",
     "redirect_uris": ["http://google.test/kong"], "name": "testapp50", "client_type": "public"},
]  # fmt: skip

INVALID_CLIENT = {"error_description": "Invalid client authentication", "error": "invalid_client"}
INVALID_PROVISION = {"error_description": "Invalid provision_key", "error": "invalid_provision_key"}
INVALID_CODE = {"error": "invalid_request", "error_description": "Invalid code"}
INVALID_TOKEN = "The access token is invalid or has expired"
INVALID_TOKEN_BODY = {"error_description": INVALID_TOKEN, "error": "invalid_token"}
INVALID_TOKEN_CHALLENGE = f'Bearer error="invalid_token" error_description="{INVALID_TOKEN}"'
MISSING = {"error_description": "The access token is missing", "error": "invalid_request"}
HTTPS = {"error_description": "You must use HTTPS", "error": "access_denied"}
CODE_PATTERN = r"^http://google\.test/kong\?code=(\w{32})&state=hello$"


def build(kong: Kong) -> Kong:
    """The spec's ``lazy_setup`` (L176-620) through the Admin API, but for its gRPC routes."""
    bob = kong.post("/consumers", {"username": "bob"})
    no_body = kong.post("/consumers", {"username": "no-body"})
    for app in APPLICATIONS:
        kong.post(f"/consumers/{bob['id']}/oauth2", {k: v for k, v in app.items() if v is not None})
    for where, config in ROUTES.items():
        route = kong.route(paths=[where]) if where.startswith("/") else kong.route(hosts=[where])
        if config.get("anonymous") == NO_BODY_ID:
            config = {**config, "anonymous": no_body["id"]}
        kong.post(f"/routes/{route['id']}/plugins", {"name": "oauth2", "config": {**BLUEPRINT, **config}})
    return kong


def pkce_challenge(verifier: str) -> str:
    """The spec's ``get_pkce_tokens`` (L125-138): the S256 challenge of ``verifier``, unpadded base64url."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


VERIFIER = "KONGSPECVERIFIERKONGSPECVERIFIERKONGSPECVERIFIERKO"  # the spec draws 50 random capitals


def provision_code(
    kong: Kong, host: str = "oauth2.test", client_id: str = "clientid123", challenge: str | None = None
) -> str:
    """The spec's ``provision_code`` (L31-66): an authorization code for ``client_id`` with scope email."""
    body = {"provision_key": "provision123", "client_id": client_id, "scope": "email", "response_type": "code",
            "state": "hello", "authenticated_userid": "userid123"}  # fmt: skip
    if challenge is not None:
        body |= {"code_challenge": challenge, "code_method": "S256"}
    resp = kong.proxy_tls.post("/oauth2/authorize", json=body, headers={"Host": host})
    assert resp.status_code == 200, resp.text
    match = re.match(CODE_PATTERN, resp.json()["redirect_uri"])
    assert match, resp.text
    return match[1]


def provision_token(
    kong: Kong,
    host: str = "oauth2.test",
    client_id: str = "clientid123",
    client_secret: str | None = "secret123",
    verifier: str | None = None,
) -> dict[str, Any]:
    """The spec's ``provision_token`` (L69-98): a code exchanged for tokens (``client_secret`` None: a
    public client, which proves ``verifier`` instead)."""
    code = provision_code(kong, host, client_id, pkce_challenge(verifier) if verifier else None)
    body = {"code": code, "client_id": client_id, "grant_type": "authorization_code"}
    if client_secret is not None:
        body["client_secret"] = client_secret
    if verifier is not None:
        body["code_verifier"] = verifier
    resp = kong.proxy_tls.post("/oauth2/token", json=body, headers={"Host": host})
    assert resp.status_code == 200, resp.text
    token: dict[str, Any] = resp.json()
    return token


@dataclass(frozen=True)
class Code:
    """An authorization code the case's body refers to as ``{code}`` (``provision_code``'s arguments)."""

    host: str = "oauth2.test"
    client_id: str = "clientid123"
    challenge: str | None = None


PUBLIC_CODE = Code(client_id="clientid11211", challenge=pkce_challenge(VERIFIER))


@dataclass(frozen=True)
class Case:
    """One ``it`` block: a request and what Kong's spec asserts about the answer."""

    name: str
    lines: tuple[int, ...]  # the spec lines of the assertions replayed
    host: str | None
    body: dict[str, Any] | None = None  # string values may name ``{code}`` and ``{verifier}``
    path: str = "/oauth2/authorize"
    method: str = "POST"
    tls: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    json: dict[str, Any] | None = None  # the whole body (assert.same)
    fields: dict[str, Any] = field(default_factory=dict)  # some body fields (assert.equal json.x)
    redirect: str | None = None  # a regex the body's redirect_uri matches
    no_store: bool = False  # Cache-Control: no-store and Pragma: no-cache
    challenge: str | None = None  # WWW-Authenticate
    token: bool = False  # a bearer token of 32 word characters expiring in 5 s
    refresh: bool = False  # and a refresh token of 32 word characters
    code: Code | None = None  # an authorization code provisioned first


def request_body(kong: Kong, case: Case) -> dict[str, Any] | None:
    """The case's body, ``{code}`` and ``{verifier}`` filled in."""
    if case.body is None:
        return None
    code = provision_code(kong, case.code.host, case.code.client_id, case.code.challenge) if case.code else ""
    return {
        k: v.format(code=code, verifier=VERIFIER) if isinstance(v, str) else v for k, v in case.body.items()
    }


def check(kong: Kong, case: Case) -> None:
    """Send the case's request and assert what the spec asserts about the answer."""
    client = kong.proxy_tls if case.tls else kong.proxy
    headers = dict(case.headers)
    if case.host:
        headers["Host"] = case.host
    resp = client.request(case.method, case.path, json=request_body(kong, case), headers=headers)
    where = f"{SPEC}#L{case.lines[0]}"
    assert resp.status_code == case.status, f"{where}: {resp.status_code} {resp.text}"
    body = resp.json()
    if case.json is not None:
        assert body == case.json, f"{where}: {body}"
    for name, value in case.fields.items():
        assert body.get(name) == value, where
    if case.redirect is not None:
        assert re.match(case.redirect, body["redirect_uri"]), f"{where}: {body}"
    if case.no_store:
        assert resp.headers.get("cache-control") == "no-store", where
        assert resp.headers.get("pragma") == "no-cache", where
    if case.challenge is not None:
        assert resp.headers.get("www-authenticate") == challenge(kong, case.challenge), where
    if case.token:
        assert_token(body, refresh=case.refresh, where=where)


def assert_token(body: dict[str, Any], *, refresh: bool, where: str = SPEC) -> None:
    """The spec's token checks: bearer, expires_in 5, 32 word characters (and a refresh token as long)."""
    assert body["token_type"] == "bearer", where
    assert body["expires_in"] == 5, where
    assert len(body["access_token"]) == 32, where
    assert re.fullmatch(r"\w+", body["access_token"]), where
    if refresh:
        assert len(body["refresh_token"]) == 32, where
        assert re.fullmatch(r"\w+", body["refresh_token"]), where


def challenge(kong: Kong, at_3_9: str) -> str:
    """A challenge as the 3.9.0 spec writes it; from 3.11 Kong separates its parameters with commas
    (Kong's master spec, MASTER_SPEC#L1441 and #L1457)."""
    return re.sub(r'" (?=\w+=)', '", ', at_3_9) if kong.version >= (3, 11) else at_3_9


def upstream_headers(resp: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.json()["headers"].items()}


def assert_bob_upstream(resp: httpx.Response, scope: str, userid: str) -> None:
    """The spec's "sets the right upstream headers" checks: a consumer id, bob, the token's scope and user,
    and clientid123 as the credential."""
    assert resp.status_code == 200, resp.text
    seen = upstream_headers(resp)
    assert seen.get("x-consumer-id")
    assert seen["x-consumer-username"] == "bob"
    assert seen["x-authenticated-scope"] == scope
    assert seen["x-authenticated-userid"] == userid
    assert seen["x-credential-identifier"] == "clientid123"


ANY = "<any non-empty value>"  # an upstream header the spec only asserts truthy
BOB = "<bob's consumer id>"  # the id of consumer bob (the spec's db.consumers:select_by_username("bob"))


@dataclass(frozen=True)
class Grant:
    """The arguments of the spec's ``provision_token`` for a case's ``{token}``."""

    host: str = "oauth2.test"
    client_id: str = "clientid123"
    client_secret: str = "secret123"


@dataclass(frozen=True)
class Step:
    """One request to the proxy (``{token}`` in the path, headers and bodies is the case's access token)
    and what the spec asserts about its answer and about the request the upstream received."""

    host: str
    method: str = "POST"
    path: str = "/request"
    headers: tuple[tuple[str, str], ...] = ()
    json: dict[str, Any] | None = None  # a JSON request body
    form: dict[str, str] | None = None  # a url-encoded request body
    multipart: dict[str, str] | None = None  # a multipart/form-data request body
    status: int = 200
    body: dict[str, Any] | None = None  # the whole answer (assert.same)
    challenge: str | None = None  # WWW-Authenticate
    upstream: dict[str, str | None] = field(
        default_factory=dict
    )  # header -> value, ANY, BOB or None (absent)
    args: dict[str, str | None] = field(
        default_factory=dict
    )  # query arguments the upstream saw (None: absent)
    form_seen: dict[str, str | None] = field(default_factory=dict)  # form arguments the upstream saw


@dataclass(frozen=True)
class Use:
    """An ``it`` block using a token (or none) on resource requests: one or more steps."""

    name: str
    lines: tuple[int, ...]
    grant: Grant | None
    steps: tuple[Step, ...]


def bearer(header: str = "Authorization") -> tuple[tuple[str, str], ...]:
    return ((header, "bearer {token}"),)


def send(kong: Kong, step: Step, token: str, where: str) -> httpx.Response:
    """Send one step with ``{token}`` filled in, and assert the spec's status, body and challenge."""

    def fill(value: str) -> str:
        return value.replace("{token}", token)

    headers = [("Host", step.host), *((k, fill(v)) for k, v in step.headers)]
    resp = kong.proxy_tls.request(
        step.method,
        fill(step.path),
        headers=headers,
        json={k: fill(v) for k, v in step.json.items()} if step.json is not None else None,
        data={k: fill(v) for k, v in step.form.items()} if step.form is not None else None,
        files={k: (None, v) for k, v in step.multipart.items()} if step.multipart is not None else None,
    )
    assert resp.status_code == step.status, f"{where}: {resp.status_code} {resp.text}"
    if step.body is not None:
        assert resp.json() == step.body, f"{where}: {resp.text}"
    if step.challenge is not None:
        assert resp.headers.get("www-authenticate") == challenge(kong, step.challenge), where
    return resp


def use(kong: Kong, case: Use) -> None:
    """Replay a :class:`Use`: provision its token, send its steps, check what the upstream saw."""
    token = ""
    if case.grant is not None:
        token = provision_token(kong, case.grant.host, case.grant.client_id, case.grant.client_secret)[
            "access_token"
        ]
    where = f"{SPEC}#L{case.lines[0]}"
    for step in case.steps:
        resp = send(kong, step, token, where)
        if not (step.upstream or step.args or step.form_seen):
            continue
        echoed = resp.json()
        seen = upstream_headers(resp)
        for name, value in step.upstream.items():
            if value == ANY:
                assert seen.get(name), where
            elif value == BOB:
                assert seen.get(name) == kong.admin.get("/consumers/bob").json()["id"], where
            else:
                assert seen.get(name) == (value.replace("{token}", token) if value else None), (
                    f"{where}: {name}"
                )
        for name, value in step.args.items():
            assert echoed["args"].get(name) == (token if value == "{token}" else value), where
        for name, value in step.form_seen.items():
            assert echoed["form"].get(name) == (token if value == "{token}" else value), where
