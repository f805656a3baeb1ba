"""Replay of Kong's oauth2 access spec (spec/03-plugins/25-oauth2/03-access_spec.lua), part 2: its
"OAuth2 Access Token" block (L2011-2936), the exchange of an authorization code at the token endpoint with
PKCE's verifier checks, against the reference gateway (set-up: tests/kong_specs/oauth2_access.py).

The spec's ``get_pkce_tokens`` draws a random verifier; the replay uses a fixed one (:data:`VERIFIER`).
"""

from __future__ import annotations

import pytest
from tests.kong_specs.cite import cannot_run, ports
from tests.kong_specs.kong import Kong
from tests.kong_specs.oauth2_access import (
    INVALID_CLIENT,
    INVALID_CODE,
    PUBLIC_CODE,
    SPEC,
    Case,
    Code,
    assert_bob_upstream,
    assert_token,
    check,
    pkce_challenge,
    provision_code,
)

TOKEN = "/oauth2/token"
EXCHANGE = {"code": "{code}", "client_id": "clientid123", "client_secret": "secret123",
            "grant_type": "authorization_code"}  # fmt: skip
PUBLIC = {"code": "{code}", "client_id": "clientid11211", "grant_type": "authorization_code",
          "code_verifier": "{verifier}"}  # fmt: skip
NO_CLIENT_ID = {"code": "{code}", "grant_type": "authorization_code", "code_verifier": "{verifier}"}
PADDED = "abcdelfhigklmnopqrstuvwxyz0123456789abcdefg"  # the spec's verifier of a padded challenge (L2495)
PLUS_SLASH = "abcdelfhigklmnopqrstuvwxyz0123456789abcdefghijklmnop9"  # L2522
SECRET_DISALLOWED = {
    "error_description": "client_secret is disallowed for public clients",
    "error": "invalid_request",
}
VERIFIER_REQUIRED = {"error_description": "code_verifier is required for PKCE authorization requests",
                     "error": "invalid_request"}  # fmt: skip
VERIFIER_LENGTH = {
    "error_description": "code_verifier must be between 43 and 128 characters",
    "error": "invalid_request",
}
INVALID_GRANT = {"error_description": "Invalid code", "error": "invalid_grant"}


def public(challenge: str) -> Code:
    """A code for the public application clientid11211 with the S256 ``challenge``."""
    return Code(client_id="clientid11211", challenge=challenge)


def confidential(host: str, pkce: bool) -> Code:
    return Code(host=host, challenge=PUBLIC_CODE.challenge if pkce else None)


CASES: list[Case] = [
    Case("nothing sent", (2020, 2022, 2024, 2025), "oauth2.test", None, TOKEN, status=400, json=INVALID_CLIENT,
         no_store=True),
    Case("only the code", (2041, 2043, 2045, 2046), "oauth2.test", {"code": "{code}"}, TOKEN, status=400,
         json=INVALID_CLIENT, no_store=True, code=Code()),
    Case("only the code and client_secret", (2063, 2065, 2067, 2068), "oauth2.test",
         {"code": "{code}", "client_secret": "secret123"}, TOKEN, status=400, json=INVALID_CLIENT, no_store=True,
         code=Code()),
    Case("grant_type not sent", (2086, 2088), "oauth2.test",
         {"code": "{code}", "client_id": "clientid123", "client_secret": "secret123"}, TOKEN, status=400,
         json={"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, code=Code()),
    Case("a wrong code", (2107, 2109), "oauth2.test", {**EXCHANGE, "code": "{code}hello"}, TOKEN, status=400,
         json=INVALID_CODE, code=Code()),
    Case("success without state", (2128, 2130, 2131, 2132, 2133, 2134, 2135), "oauth2.test", EXCHANGE, TOKEN,
         token=True, refresh=True, code=Code()),
    Case("success with state", (2155, 2157, 2158, 2159, 2160, 2161, 2162), "oauth2.test",
         {**EXCHANGE, "state": "wot"}, TOKEN, token=True, refresh=True, code=Code()),
    Case("code of another client", (2182, 2183), "oauth2.test", {**EXCHANGE, "state": "wot"}, TOKEN, status=400,
         json={**INVALID_CODE, "state": "wot"}, code=Code(client_id="clientid333")),
    Case("code used by another application", (2277, 2279), "oauth2.test",
         {**EXCHANGE, "client_id": "clientid789", "client_secret": "secret789"}, TOKEN, status=400,
         json=INVALID_CODE, code=Code()),
    Case("code used for another API", (2298, 2300), "oauth2_3.test", EXCHANGE, TOKEN, status=400,
         json=INVALID_CODE, code=Code()),
    Case("code challenge", (2319, 2321, 2322, 2323, 2324, 2325, 2326), "oauth2.test", PUBLIC, TOKEN, token=True,
         refresh=True, code=PUBLIC_CODE),
    Case("authorization header for a public app", (2345, 2347, 2348, 2349, 2350, 2351, 2352), "oauth2.test",
         NO_CLIENT_ID, TOKEN, headers={"Authorization": "Basic Y2xpZW50aWQxMTIxMQ=="}, token=True, refresh=True,
         code=PUBLIC_CODE),
    Case("authorization header with a colon", (2371, 2373, 2374, 2375, 2376, 2377, 2378), "oauth2.test",
         NO_CLIENT_ID, TOKEN, headers={"Authorization": "Basic Y2xpZW50aWQxMTIxMTo="}, token=True, refresh=True,
         code=PUBLIC_CODE),
    Case("authorization header with an empty secret", (2397, 2399, 2400, 2401, 2402, 2403, 2404), "oauth2.test",
         NO_CLIENT_ID, TOKEN, headers={"Authorization": "Basic Y2xpZW50aWQxMTIxMTogICAg"}, token=True, refresh=True,
         code=PUBLIC_CODE),
    Case("a secret for a public app", (2424, 2426), "oauth2.test", {**PUBLIC, "client_secret": "secret11211"},
         TOKEN, status=400, json=SECRET_DISALLOWED, code=PUBLIC_CODE),
    Case("a secret for a public app in the header", (2445, 2447), "oauth2.test", NO_CLIENT_ID, TOKEN,
         headers={"Authorization": "Basic Y2xpZW50aWQxMTIxMTpzZWNyZXQxMTIxMQ=="}, status=400,
         json=SECRET_DISALLOWED, code=PUBLIC_CODE),
    Case("no code_verifier for a public app", (2465, 2467), "oauth2.test",
         {"code": "{code}", "client_id": "clientid11211", "grant_type": "authorization_code"}, TOKEN, status=400,
         json=VERIFIER_REQUIRED, code=PUBLIC_CODE),
    Case("no code_verifier, no pkce, conf.pkce none", (2485, 2487, 2488, 2489, 2490, 2491, 2492), "oauth2_14.test",
         EXCHANGE, TOKEN, token=True, refresh=True, code=confidential("oauth2_14.test", pkce=False)),
    Case("a padded code challenge", (2512, 2514, 2515, 2516, 2517, 2518, 2519), "oauth2.test",
         {**PUBLIC, "code_verifier": PADDED}, TOKEN, token=True, refresh=True,
         code=public("2aC4cMSkAsMRtZbhHhiZkDW3sddRf_iTRGil1r9gi8w=")),
    Case("a code challenge with + or /", (2539, 2541, 2542, 2543, 2544, 2545, 2546), "oauth2.test",
         {**PUBLIC, "code_verifier": PLUS_SLASH}, TOKEN, token=True, refresh=True,
         code=public("0LoS6Gtrw16r07+ZXsCf8MeAi21QHmKc3LJdUCA5w/o=")),
    Case("a code verifier over 128 characters", (2566, 2568), "oauth2.test",
         {**PUBLIC, "code_verifier": "abc123" * 30}, TOKEN, status=400, json=VERIFIER_LENGTH,
         code=public(pkce_challenge("abc123" * 30))),
    Case("a code verifier under 43 characters", (2587, 2589), "oauth2.test", {**PUBLIC, "code_verifier": "abc123"},
         TOKEN, status=400, json=VERIFIER_LENGTH, code=public(pkce_challenge("abc123"))),
    Case("a code verifier missing", (2607, 2609), "oauth2.test",
         {"code": "{code}", "client_id": "clientid11211", "grant_type": "authorization_code"}, TOKEN, status=400,
         json=VERIFIER_REQUIRED, code=public(pkce_challenge("abc123"))),
    Case("a wrong secret, password grant", (2631, 2633), "oauth2_5.test",
         {"provision_key": "provision123", "authenticated_userid": "id123", "client_id": "clientid123",
          "scope": "email", "grant_type": "password", "client_secret": "bogus", "code": "{code}"}, TOKEN,
         status=400, json=INVALID_CLIENT, code=PUBLIC_CODE),
    Case("an empty code verifier", (2651, 2653), "oauth2.test", {**PUBLIC, "code_verifier": ""}, TOKEN,
         status=400, json=VERIFIER_LENGTH, code=public("abc123")),
    Case("a code verifier not a string", (2671, 2673), "oauth2.test", {**PUBLIC, "code_verifier": 12}, TOKEN,
         status=400, json={"error_description": "code_verifier is not a string", "error": "invalid_request"},
         code=public("abc123")),
    Case("a code verifier not matching", (2691, 2693), "oauth2.test", {**PUBLIC, "code_verifier": PADDED}, TOKEN,
         status=400, json=INVALID_GRANT, code=public("abc123")),
    Case("a verifier not matching, confidential, pkce strict", (2713, 2715), "oauth2_15.test",
         {**EXCHANGE, "code_verifier": PADDED}, TOKEN, status=400, json=INVALID_GRANT,
         code=confidential("oauth2_15.test", pkce=True)),
    Case("a wrong code for a public app", (2734, 2736), "oauth2.test", {**PUBLIC, "code": "{code}hello"}, TOKEN,
         status=400, json={"error_description": "Invalid code", "error": "invalid_request"}, code=PUBLIC_CODE),
    Case("no code for a public app", (2752, 2754), "oauth2.test",
         {"client_id": "clientid11211", "grant_type": "authorization_code", "code_verifier": "verifier"}, TOKEN,
         status=400, json={"error_description": "Invalid code", "error": "invalid_request"}),
    Case("no secret for a confidential app", (2771, 2773), "oauth2.test",
         {"code": "{code}", "client_id": "clientid123", "grant_type": "authorization_code"}, TOKEN, status=400,
         json=INVALID_CLIENT, code=Code()),
    Case("no verifier, confidential, pkce strict", (2792, 2794), "oauth2_15.test", EXCHANGE, TOKEN, status=400,
         json=VERIFIER_REQUIRED, code=confidential("oauth2_15.test", pkce=True)),
    Case("no verifier, confidential with pkce, pkce lax", (2813, 2815), "oauth2_16.test", EXCHANGE, TOKEN,
         status=400, json=VERIFIER_REQUIRED, code=confidential("oauth2_16.test", pkce=True)),
    Case("no verifier, confidential with pkce, pkce none", (2834, 2836), "oauth2_14.test", EXCHANGE, TOKEN,
         status=400, json=VERIFIER_REQUIRED, code=confidential("oauth2_14.test", pkce=True)),
    Case("no verifier, confidential without pkce, pkce none", (2854, 2856, 2857, 2858, 2859, 2860, 2861),
         "oauth2_14.test", EXCHANGE, TOKEN, token=True, refresh=True, code=confidential("oauth2_14.test", pkce=False)),
    Case("no verifier, confidential without pkce, pkce lax", (2879, 2881, 2882, 2883, 2884, 2885, 2886),
         "oauth2_16.test", EXCHANGE, TOKEN, token=True, refresh=True, code=confidential("oauth2_16.test", pkce=False)),
    Case("a code of another global plugin", (2905, 2907), "oauth2_17.test", EXCHANGE, TOKEN, status=400,
         json=INVALID_CODE, code=confidential("oauth2_16.test", pkce=False)),
]  # fmt: skip

cannot_run(
    SPEC, "sets the code's plugin to null in Kong's DAO (an old code); no Admin API surface", 2916, 2919, 2934
)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@ports(SPEC, *sorted({n for c in CASES for n in c.lines}))
def test_token_endpoint_exchanges_codes_as_kongs_spec(oauth2_access: Kong, case: Case) -> None:
    check(oauth2_access, case)


def exchange(kong: Kong, code: str) -> tuple[int, dict[str, object]]:
    body = {**EXCHANGE, "code": code}
    resp = kong.proxy_tls.post("/oauth2/token", json=body, headers={"Host": "oauth2.test"})
    return resp.status_code, resp.json()


@ports(SPEC, 2201, 2210, 2211, 2212, 2213, 2214, 2215)
def test_exchanged_token_sets_the_upstream_headers(oauth2_access: Kong) -> None:
    status, token = exchange(oauth2_access, provision_code(oauth2_access))
    assert status == 200
    resp = oauth2_access.proxy_tls.get(f"/request?access_token={token['access_token']}",
                                       headers={"Host": "oauth2.test"})  # fmt: skip
    assert_bob_upstream(resp, "email", "userid123")


@ports(SPEC, 2234, 2236, 2237, 2238, 2239, 2240, 2241, 2257, 2259)
def test_authorization_code_is_used_once(oauth2_access: Kong) -> None:
    code = provision_code(oauth2_access)
    status, token = exchange(oauth2_access, code)
    assert status == 200
    assert_token(token, refresh=True)
    assert exchange(oauth2_access, code) == (400, INVALID_CODE)
