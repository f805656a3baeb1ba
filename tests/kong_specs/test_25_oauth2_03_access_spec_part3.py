"""Replay of Kong's oauth2 access spec (spec/03-plugins/25-oauth2/03-access_spec.lua), part 3: its
"Making a request" block with "Global Credentials" (L2938-3503) and "Authentication challenge" (L3505-3571):
tokens used on resource requests, against the reference gateway (set-up: tests/kong_specs/oauth2_access.py).

The spec waits up to 7 s for a 5 s token to expire (L3551); the replay moves the stack's virtual clock.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

import pytest
from tests.kong_specs.cite import cannot_run, ports
from tests.kong_specs.kong import Kong
from tests.kong_specs.oauth2_access import (
    BOB,
    CODE_PATTERN,
    INVALID_TOKEN_BODY,
    INVALID_TOKEN_CHALLENGE,
    MISSING,
    SPEC,
    Case,
    Grant,
    Step,
    Use,
    bearer,
    check,
    provision_token,
    send,
    use,
)

CUSTOM = Grant("oauth2_11.test", "clientid1011", "secret1011")


class Refusal(TypedDict):
    """The Step fields of Kong's invalid-token answer."""

    status: int
    body: dict[str, Any]
    challenge: str


REFUSED: Refusal = {"status": 401, "body": INVALID_TOKEN_BODY, "challenge": INVALID_TOKEN_CHALLENGE}
BOB_HEADERS: dict[str, str | None] = {
    "x-consumer-id": BOB, "x-consumer-username": "bob", "x-authenticated-userid": "userid123",
    "x-authenticated-scope": "email", "x-credential-identifier": "clientid123", "x-anonymous-consumer": None,
}  # fmt: skip

USES: list[Use] = [
    Use("no access_token in a JSON request", (2948, 2950, 2951), None,
        (Step("oauth2.test", headers=(("Content-Type", "application/json"),), status=401, body=MISSING,
              challenge="Bearer"),)),
    Use("access_token in the querystring", (2963,), Grant(),
        (Step("oauth2.test", "GET", "/request?access_token={token}"),)),
    Use("access_token in the custom header", (2976,), CUSTOM,
        (Step("oauth2_11.test", "GET", headers=bearer("custom_header_name")),)),
    Use("access_token in duplicate custom headers", (2989,), CUSTOM,
        (Step("oauth2_11.test", "GET", headers=bearer("custom_header_name") * 2),)),
    Use("an empty custom header", (3000, 3001), None,
        (Step("oauth2_11.test", "GET", headers=(("custom_header_name", ""),), status=401, challenge="Bearer"),)),
    Use("access_token in the wrong header", (3155, 3156), CUSTOM,
        (Step("oauth2_11.test", "GET", headers=bearer(), status=401, challenge="Bearer"),)),
    Use("another API, no realm", (3168, 3170, 3171), Grant(),
        (Step("oauth2_3.test", "GET", "/request?access_token={token}", **REFUSED),)),
    Use("another API, realm", (3183, 3185, 3186), Grant(),
        (Step("oauth2_4.test", "GET", "/request?access_token={token}", **REFUSED),)),
    Use("access_token in a JSON body", (3202,), Grant(), (Step("oauth2.test", json={"access_token": "{token}"}),)),
    Use("a GET without a body", (3225,), Grant(), (Step("oauth2.test", "GET", "/request?access_token={token}"),)),
    Use("authorization header (bearer)", (3243,), Grant(), (Step("oauth2.test", headers=bearer()),)),
    Use("authorization header, upstream headers", (3256, 3259, 3260, 3261, 3262, 3263, 3264), Grant(),
        (Step("oauth2.test", headers=bearer(), upstream=BOB_HEADERS),)),
    Use("right credentials and anonymous", (3324, 3327, 3328, 3329, 3330, 3331, 3332), Grant("oauth2_7.test"),
        (Step("oauth2_7.test", headers=bearer(), upstream=BOB_HEADERS),)),
    Use("wrong credentials and anonymous", (3342, 3343, 3344, 3345), None,
        (Step("oauth2_7.test", upstream={"x-anonymous-consumer": "true", "x-consumer-username": "no-body",
                                          "x-credential-identifier": None}),)),
    Use("wrong credentials and a username as anonymous", (3356, 3357, 3358), None,
        (Step("oauth2__c.test", upstream={"x-anonymous-consumer": "true", "x-consumer-username": "no-body"}),)),
    Use("anonymous consumer does not exist", (3376,), None, (Step("oauth2_10.test", "GET", status=500),)),
    Use("the correct service after the wrong one", (3417, 3427), Grant(),
        (Step("oauth2_3.test", "GET", "/request?access_token={token}", status=401),
         Step("oauth2.test", "GET", "/request?access_token={token}"))),
    # ---------------------------------------------------------------- Global Credentials
    Use("APIs not sharing global credentials", (3442, 3452, 3453), Grant("oauth2_8.test"),
        (Step("oauth2_8.test", headers=bearer()),
         Step("oauth2.test", headers=bearer(), status=401, challenge=INVALID_TOKEN_CHALLENGE))),
    Use("APIs not sharing global credentials 2", (3466, 3467, 3477), Grant(),
        (Step("oauth2_8.test", headers=bearer(), status=401, challenge=INVALID_TOKEN_CHALLENGE),
         Step("oauth2.test", headers=bearer()))),
    Use("APIs sharing global credentials", (3490, 3500), Grant("oauth2_8.test"),
        (Step("oauth2_8.test", headers=bearer()), Step("oauth2_9.test", headers=bearer()))),
    # ---------------------------------------------------------------- Authentication challenge
    Use("no authentication information", (3514, 3516, 3517), None,
        (Step("oauth2.test", status=401, body=MISSING, challenge="Bearer"),)),
    Use("an invalid access token in the url", (3527, 3529, 3530), None,
        (Step("oauth2.test", "GET", "/request?access_token=invalid", **REFUSED),)),
    Use("an invalid access token in the Authorization header", (3541, 3543, 3544), None,
        (Step("oauth2.test", headers=(("Authorization", "bearer invalid"),), **REFUSED),)),
]  # fmt: skip

SCOPE_NOT_STRING = [
    Case(f"scope {value!r}", (3306, 3308), "oauth2_5.test",
         {"provision_key": "provision123", "authenticated_userid": "id123", "client_id": "clientid123",
          "client_secret": "secret123", "scope": value, "grant_type": "password"}, "/oauth2/token", status=400,
         json={"error": "invalid_scope", "error_description": "scope must be a string"})
    for value in (["email"], 123, False)
]  # fmt: skip

cannot_run(SPEC, "the spec's Kong error log (helpers.clean_logfile, assert.logfile)", 3230)
cannot_run(SPEC, "gRPC (proxy_client_grpcs): the reference gateway has no gRPC listener", 3277, 3278)
cannot_run(SPEC, "errors of the Lua regex iterator (ngx.re.gmatch)", 3398, 3400)
cannot_run(
    SPEC, "reads the token row in Kong's DAO (db.oauth2_tokens:select_by_access_token)", 3402, 3403, 3404
)


@pytest.mark.parametrize("case", USES, ids=[c.name for c in USES])
@ports(SPEC, *sorted({n for c in USES for n in c.lines}))
def test_resource_request_answers_as_kongs_spec(oauth2_access: Kong, case: Use) -> None:
    use(oauth2_access, case)


@pytest.mark.parametrize("case", SCOPE_NOT_STRING, ids=[c.name for c in SCOPE_NOT_STRING])
@ports(SPEC, 3306, 3308)
def test_scope_must_be_a_string(oauth2_access: Kong, case: Case) -> None:
    check(oauth2_access, case)


def code_at(kong: Kong, host: str, scope: str) -> str:
    body = {"provision_key": "provision123", "client_id": "clientid123", "response_type": "code", "scope": scope,
            "state": "hello", "authenticated_userid": "userid123"}  # fmt: skip
    resp = kong.proxy_tls.post("/oauth2/authorize", json=body, headers={"Host": host})
    assert resp.status_code == 200, resp.text
    match = re.match(CODE_PATTERN, resp.json()["redirect_uri"])
    assert match
    return match[1]


def refresh_elsewhere(kong: Kong, at: str, scope: str, refresh_at: str) -> tuple[int, dict[str, str]]:
    """The spec's scope tests (L3004-3142): a code and tokens at ``at``, refreshed at ``refresh_at``."""
    body = {"code": code_at(kong, at, scope), "client_id": "clientid123", "client_secret": "secret123",
            "grant_type": "authorization_code", "redirect_uri": "http://google.test/kong"}  # fmt: skip
    resp = kong.proxy_tls.post("/oauth2/token", json=body, headers={"Host": at})
    assert resp.status_code == 200, resp.text
    body = {"refresh_token": resp.json()["refresh_token"], "client_id": "clientid123", "client_secret": "secret123",
            "grant_type": "refresh_token"}  # fmt: skip
    resp = kong.proxy_tls.post("/oauth2/token", json=body, headers={"Host": refresh_at})
    return resp.status_code, resp.json()


@ports(SPEC, 3025, 3051, 3068, 3069)
def test_refresh_fails_when_the_scope_is_not_the_plugins(oauth2_access: Kong) -> None:
    status, body = refresh_elsewhere(oauth2_access, "oauth2_18.test", "scope18", "oauth2_19.test")
    assert (status, body) == (400, {"error": "invalid_scope", "error_description": "Scope mismatch"})


@ports(SPEC, 3097, 3123, 3140)
def test_refresh_succeeds_when_the_scope_is_a_subset(oauth2_access: Kong) -> None:
    status, body = refresh_elsewhere(oauth2_access, "oauth2_20.test", "scope20", "oauth2_21.test")
    assert status == 200, body


@ports(SPEC, 3394, 3395)
def test_implicit_token_of_a_custom_header_plugin(oauth2_access: Kong) -> None:
    body = {"provision_key": "provision123", "authenticated_userid": "id123", "client_id": "clientid1011",
            "scope": "email", "response_type": "token"}  # fmt: skip
    resp = oauth2_access.proxy_tls.post("/oauth2/authorize", json=body, headers={"Host": "oauth2_11.test"})
    assert resp.status_code == 200
    pattern = r"^http://google\.test/kong#access_token=\w{32}&expires_in=\d+&token_type=bearer$"
    assert re.match(pattern, resp.json()["redirect_uri"])


@ports(SPEC, 3568, 3569)
def test_expired_token_is_refused(oauth2_access: Kong) -> None:
    token = provision_token(oauth2_access)["access_token"]
    oauth2_access.stack.clock.advance(6)  # past the blueprint's token_expiration of 5 s
    send(oauth2_access, Step("oauth2.test", headers=bearer(), **REFUSED), token, f"{SPEC}#L3568")
