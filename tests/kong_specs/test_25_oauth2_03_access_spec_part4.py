"""Replay of Kong's oauth2 access spec (spec/03-plugins/25-oauth2/03-access_spec.lua), part 4: its "Refresh
Token" and "Hide Credentials" blocks (L3573-3962), the "oauth2 (ttl)" block (L4261-4335) and the 3.8
regression block (L4337-4415), against the reference gateway (set-up: tests/kong_specs/oauth2_access.py, plus
the ttl and regression blocks' own routes, consumers and applications, inserted into the same Kong as the
spec does).

Time: the spec waits for tokens to expire (L3725, L3794) and sleeps past ``refresh_token_ttl`` (L4318, L4329);
the replay moves the stack's virtual clock. The ttl block reads Kong's DAO for the token row; over HTTP the
row exists exactly while its access token is accepted (``token_expiration`` is 7200 s there), which is what
the replay checks. From 3.14 ``hide_credentials`` defaults to true, so at 3.15 the spec's "does not hide"
cases (L3830, L3864, L3903, and L3824) expect the token hidden (:func:`hidden_from_3_14`).
"""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from tests.kong_specs.cite import cannot_run, ports
from tests.kong_specs.kong import Kong
from tests.kong_specs.oauth2_access import (
    INVALID_CLIENT,
    INVALID_TOKEN_BODY,
    INVALID_TOKEN_CHALLENGE,
    SPEC,
    VERIFIER,
    Grant,
    Step,
    Use,
    assert_token,
    bearer,
    provision_token,
    send,
    use,
)

SECRET_DISALLOWED = {
    "error_description": "client_secret is disallowed for public clients",
    "error": "invalid_request",
}
CUSTOM = Grant("oauth2_12.test", "clientid1011", "secret1011")
QUERY = "/request?access_token={token}"

HIDE: list[Use] = [
    Use("credentials kept in the body", (3844, 3845), Grant(),
        (Step("oauth2.test", form={"access_token": "{token}"}, form_seen={"access_token": "{token}"}),)),
    Use("credentials hidden in the body", (3861, 3862), Grant("oauth2_3.test"),
        (Step("oauth2_3.test", form={"access_token": "{token}"}, form_seen={"access_token": None}),)),
    Use("credentials kept in the querystring", (3874, 3875), Grant(),
        (Step("oauth2.test", "GET", QUERY, args={"access_token": "{token}"}),)),
    Use("credentials hidden in the querystring", (3887, 3888), Grant("oauth2_3.test"),
        (Step("oauth2_3.test", "GET", QUERY, args={"access_token": None}),)),
    Use("credentials hidden in the querystring, custom header", (3900, 3901), CUSTOM,
        (Step("oauth2_12.test", "GET", QUERY, args={"access_token": None}),)),
    Use("credentials kept in the header", (3914, 3915), Grant(),
        (Step("oauth2.test", "GET", headers=bearer(), upstream={"authorization": "bearer {token}"}),)),
    Use("credentials hidden in the header", (3928, 3929), Grant("oauth2_3.test"),
        (Step("oauth2_3.test", "GET", headers=bearer(), upstream={"authorization": None}),)),
    Use("credentials hidden in the custom header", (3942, 3943, 3944), CUSTOM,
        (Step("oauth2_12.test", "GET", headers=bearer("custom_header_name"),
              upstream={"authorization": None, "custom_header_name": None}),)),
    Use("a multipart form upload", (3960,), Grant("oauth2_3.test"),
        (Step("oauth2_3.test", path=QUERY, multipart={"foo": "bar"}),)),
]  # fmt: skip

cannot_run(SPEC, "errors of the Lua regex iterator (ngx.re.gmatch) in the spec's provision_code", 61, 63)
cannot_run(SPEC, "reads or rewrites token rows in Kong's DAO (db.oauth2_tokens)", 3721, 3771, 3784, 3785)
cannot_run(
    SPEC,
    "key-auth and jwt with oauth2 (logical AND/OR): key-auth is not modelled by the reference gateway",
    *(4098, 4099, 4100, 4101, 4102, 4104, 4105, 4117, 4118, 4134, 4135, 4146, 4147),
    *(4166, 4167, 4168, 4169, 4170, 4171, 4172, 4187, 4188, 4189, 4190, 4191, 4192, 4193, 4194, 4195),
    *(4213, 4214, 4215, 4216, 4217, 4218, 4219, 4220, 4221, 4235, 4236, 4237, 4238, 4239, 4240, 4241),
    *(4252, 4253, 4254, 4255, 4256),
)


@pytest.fixture(scope="module")
def kong(oauth2_access: Kong) -> Kong:
    """The ttl block's set-up (L4262-4309) and the regression's (L4344-4387), in the same Kong."""
    k = oauth2_access
    for host, ttl in (("oauth2_21.refresh.test", 2), ("oauth2_22.refresh.test", 0)):
        route = k.route(hosts=[host])
        config = {"enable_authorization_code": True, "mandatory_scope": False, "provision_key": "provision123",
                  "global_credentials": False, "refresh_token_ttl": ttl}  # fmt: skip
        k.post(f"/routes/{route['id']}/plugins", {"name": "oauth2", "config": config})
    bobo = k.post("/consumers", {"username": "bobo"})
    k.post(f"/consumers/{bobo['id']}/oauth2", {"client_id": "clientid7890", "client_secret": "secret7890",
                                               "redirect_uris": ["http://google.test/kong"], "name": "testapp"})  # fmt: skip
    route = k.route(hosts=["oauth2_regression_4232.test"])
    k.post(f"/routes/{route['id']}/plugins", {"name": "oauth2", "config": {
        "provision_key": "provision123", "enable_authorization_code": True, "global_credentials": True}})  # fmt: skip
    route = k.route(hosts=["oauth2_regression_4232_test.test"])
    k.post(f"/routes/{route['id']}/plugins", {"name": "oauth2", "config": {
        "enable_client_credentials": True, "global_credentials": False}})  # fmt: skip
    user = k.post("/consumers", {"username": "4232"})
    k.post(f"/consumers/{user['id']}/oauth2", {"client_id": "clientid_4232", "client_secret": "secret_4232",
                                               "redirect_uris": ["http://google.test/kong"], "name": "4232_app"})  # fmt: skip
    return k


def refresh(
    kong: Kong,
    token: str,
    host: str = "oauth2.test",
    client_id: str = "clientid123",
    secret: str | None = "secret123",
) -> httpx.Response:
    body = {"refresh_token": token, "client_id": client_id, "grant_type": "refresh_token"}
    if secret is not None:
        body["client_secret"] = secret
    return kong.proxy_tls.post("/oauth2/token", json=body, headers={"Host": host})


def public_token(kong: Kong) -> str:
    """A refresh token of the public application clientid11211 (PKCE, no secret: the spec's L3621)."""
    return str(
        provision_token(kong, client_id="clientid11211", client_secret=None, verifier=VERIFIER)[
            "refresh_token"
        ]
    )


@ports(SPEC, 3589, 3591)
def test_an_invalid_refresh_token_is_refused(kong: Kong) -> None:
    resp = refresh(kong, "hello")
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_request", "error_description": "Invalid refresh_token"}


@ports(SPEC, 55, 56, 93, 94, 95, 3610, 3612, 3613, 3614, 3615, 3616, 3617)
def test_a_valid_refresh_token_refreshes(kong: Kong) -> None:
    resp = refresh(kong, provision_token(kong)["refresh_token"])
    assert resp.status_code == 200
    assert_token(resp.json(), refresh=True)


@ports(SPEC, 3635, 3637, 3638, 3639, 3640, 3641, 3642)
def test_a_public_app_refreshes_without_a_secret(kong: Kong) -> None:
    resp = refresh(kong, public_token(kong), client_id="clientid11211", secret=None)
    assert resp.status_code == 200
    assert_token(resp.json(), refresh=True)


@ports(SPEC, 3661, 3663)
def test_a_public_app_may_not_send_a_secret(kong: Kong) -> None:
    resp = refresh(kong, public_token(kong), client_id="clientid11211", secret="secret11211")
    assert (resp.status_code, resp.json()) == (400, SECRET_DISALLOWED)


@ports(SPEC, 3680, 3682)
def test_a_confidential_app_must_send_its_secret(kong: Kong) -> None:
    resp = refresh(kong, provision_token(kong)["refresh_token"], secret=None)
    assert (resp.status_code, resp.json()) == (400, INVALID_CLIENT)


@ports(SPEC, 3701, 3703, 3704, 3705)
def test_a_refresh_token_belongs_to_its_application(kong: Kong) -> None:
    token = provision_token(kong, client_id="clientid333", client_secret="secret333")
    resp = refresh(kong, token["refresh_token"])
    assert (resp.status_code, resp.json()) == (400, INVALID_CLIENT)
    assert resp.headers.get("cache-control") == "no-store"
    assert resp.headers.get("pragma") == "no-cache"


REFUSED = Step(
    "oauth2.test", headers=bearer(), status=401, body=INVALID_TOKEN_BODY, challenge=INVALID_TOKEN_CHALLENGE
)


@ports(SPEC, 3718, 3740, 3741, 3759, 3761, 3762, 3763, 3764, 3765, 3766, 3768, 3769)
def test_a_token_expires_after_5_seconds_and_refreshes(kong: Kong) -> None:
    token = provision_token(kong)
    send(kong, Step("oauth2.test", headers=bearer()), token["access_token"], f"{SPEC}#L3718")
    kong.stack.clock.advance(6)
    send(kong, REFUSED, token["access_token"], f"{SPEC}#L3740")
    resp = refresh(kong, token["refresh_token"])
    assert resp.status_code == 200
    assert_token(resp.json(), refresh=True)
    assert resp.json()["access_token"] != token["access_token"]
    assert resp.json()["refresh_token"] != token["refresh_token"]


@ports(SPEC, 117, 118, 119, 3776, 3777)
def test_a_non_persistent_refresh_token_is_rewritten(kong: Kong) -> None:
    token = provision_token(kong)
    resp = refresh(kong, token["refresh_token"])
    assert resp.status_code == 200
    assert isinstance(resp.json(), dict)
    assert resp.json()["refresh_token"] != token["refresh_token"]


@ports(SPEC, 3811, 3812, 3823, 3824)
def test_a_persistent_refresh_token_is_kept(kong: Kong) -> None:
    """L3779: the spec expires the reused row by setting its created_at (L3789); the replay moves the clock."""
    token = provision_token(kong, "oauth2_13.test")
    refreshed = refresh(kong, token["refresh_token"], "oauth2_13.test").json()
    kong.stack.clock.advance(6)
    expired = Step("oauth2_13.test", headers=bearer(), status=401, body=INVALID_TOKEN_BODY,
                   challenge=INVALID_TOKEN_CHALLENGE)  # fmt: skip
    send(kong, expired, refreshed["access_token"], f"{SPEC}#L3811")
    final = refresh(kong, refreshed["refresh_token"], "oauth2_13.test")
    assert final.status_code == 200
    resp = send(
        kong, Step("oauth2_13.test", "GET", headers=bearer()), final.json()["access_token"], f"{SPEC}#L3823"
    )
    sent = "bearer " + final.json()["access_token"]
    assert resp.json()["headers"].get("Authorization") == (sent if kong.version < (3, 14) else None)


def hidden_from_3_14(kong: Kong, case: Use) -> Use:
    """From 3.14 ``hide_credentials`` defaults to true (docs/fidelity/gateway-core.md, "Pre-3.14 plugin
    defaults"), so the spec's plugins without it hide the token too: what the upstream saw of it is nothing."""
    if kong.version < (3, 14):
        return case

    def none(seen: dict[str, str | None]) -> dict[str, str | None]:
        return {k: None if v and "{token}" in v else v for k, v in seen.items()}

    steps = tuple(
        dataclasses.replace(s, upstream=none(s.upstream), args=none(s.args), form_seen=none(s.form_seen))
        for s in case.steps
    )
    return dataclasses.replace(case, steps=steps)


@pytest.mark.parametrize("case", HIDE, ids=[c.name for c in HIDE])
@ports(SPEC, *sorted({n for c in HIDE for n in c.lines}))
def test_hide_credentials_as_kongs_spec(kong: Kong, case: Use) -> None:
    use(kong, hidden_from_3_14(kong, case))


@pytest.mark.parametrize(
    ("host", "ttl_deletes"), [("oauth2_21.refresh.test", True), ("oauth2_22.refresh.test", False)]
)
@ports(SPEC, 4315, 4327, 4332)
def test_refresh_token_ttl_deletes_the_token(kong: Kong, host: str, ttl_deletes: bool) -> None:
    token = provision_token(kong, host, "clientid7890", "secret7890")["access_token"]
    send(kong, Step(host, headers=bearer()), token, f"{SPEC}#L4315")
    kong.stack.clock.advance(2.2)
    send(kong, Step(host, headers=bearer(), status=401 if ttl_deletes else 200), token, f"{SPEC}#L4332")


@ports(SPEC, 4406, 4408, 4413)
def test_a_global_token_at_a_non_global_plugin(kong: Kong) -> None:
    token = provision_token(kong, "oauth2_regression_4232.test", "clientid_4232", "secret_4232")[
        "access_token"
    ]
    body = {"error": "invalid_token",
            "error_description": "The access token is global, but the current plugin is configured without 'global_credentials'"}  # fmt: skip
    step = Step("oauth2_regression_4232_test.test", path="/anything", json={"access_token": "{token}"}, status=401,
                body=body, challenge=INVALID_TOKEN_CHALLENGE)  # fmt: skip
    send(kong, step, token, f"{SPEC}#L4406")
