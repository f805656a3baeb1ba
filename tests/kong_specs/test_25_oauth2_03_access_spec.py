"""Replay of Kong's oauth2 access spec (spec/03-plugins/25-oauth2/03-access_spec.lua) against the reference
gateway: the authorize endpoint (code grant, PKCE, implicit), the token endpoint (client credentials) and
the upstream headers of an accepted token.

The spec's ``lazy_setup`` is built by :func:`tests.kong_specs.oauth2_access.build` (fixture ``oauth2_access``),
shared with ``test_25_oauth2_03_access_spec_part*.py``, which replay the rest of the file. Assertions on Kong's
DAO (``db.oauth2_authorization_codes:select_by_code``...) and gRPC calls are not replayed:
docs/fidelity/kong-spec-replay.md.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.kong_specs.cite import cannot_run, ports
from tests.kong_specs.kong import Kong
from tests.kong_specs.oauth2_access import (
    HTTPS,
    INVALID_CLIENT,
    INVALID_PROVISION,
    MISSING,
    SPEC,
    Case,
    assert_bob_upstream,
    check,
)


def authorize(**extra: str) -> dict[str, Any]:
    return {
        "provision_key": "provision123",
        "authenticated_userid": "id123",
        "client_id": "clientid123",
        **extra,
    }


def redirect_error(error: str, description: str, state: str = "") -> dict[str, Any]:
    tail = f"&state={state}" if state else ""
    return {"redirect_uri": f"http://google.test/kong?error={error}&error_description={description}{tail}"}


CODE = r"^http://google\.test/kong\?code=\w{32}$"
IMPLICIT = r"^http://google\.test/kong#access_token=\w{32}&expires_in=\d+&token_type=bearer$"
CODE_STATE = r"^http://google\.test/kong\?code=\w{32}&state=hello$"
PKCE = {"client_id": "clientid11211", "scope": "user.email", "response_type": "code", "state": "hello",
        "authenticated_userid": "userid123", "provision_key": "provision123"}  # fmt: skip
GET_TOKEN = "The HTTP method GET is invalid for the token endpoint"
PW = {"client_id": "clientid123", "client_secret": "secret123", "scope": "email", "grant_type": "password"}
CC = {
    "client_id": "clientid123",
    "client_secret": "secret123",
    "scope": "email",
    "grant_type": "client_credentials",
}

CASES: list[Case] = [
    # ---------------------------------------------------------------- OAuth2 Authorization: Code Grant
    Case("no provision_key", (643, 645, 646, 647), "oauth2.test", None, status=400, json=INVALID_PROVISION, no_store=True),
    Case("no parameter", (673, 675), "oauth2.test", {"provision_key": "provision123"}, status=400,
         json={"error_description": "Missing authenticated_userid parameter", "error": "invalid_authenticated_userid"}),
    Case("only provision_key and authenticated_userid", (690, 692, 693, 694), "oauth2.test",
         {"provision_key": "provision123", "authenticated_userid": "id123"}, status=400, json=INVALID_CLIENT,
         no_store=True),
    Case("only the client_id", (710, 712), "oauth2.test", authorize(), status=400,
         json=redirect_error("invalid_scope", "You%20must%20specify%20a%20scope")),
    Case("an invalid scope", (729, 731), "oauth2.test", authorize(scope="wot"), status=400,
         json=redirect_error("invalid_scope", "%22wot%22%20is%20an%20invalid%20scope")),
    Case("no response_type", (748, 750), "oauth2.test", authorize(scope="email"), status=400,
         json=redirect_error("unsupported_response_type", "Invalid%20response_type")),
    Case("no response_type, with a state", (768, 770), "oauth2.test", authorize(scope="email", state="somestate"),
         status=400, json=redirect_error("unsupported_response_type", "Invalid%20response_type", "somestate")),
    Case("redirect_uri does not match", (789, 791), "oauth2.test",
         authorize(scope="email", response_type="code", redirect_uri="http://hello.test/"), status=400,
         json=redirect_error("invalid_request", "Invalid%20redirect_uri%20that%20does%20not%20match%20with%20any"
                             "%20redirect_uri%20created%20with%20the%20application")),
    Case("redirect_uri with a query string", (810, 811), "oauth2_6.test",
         authorize(client_id="clientid789", scope="email", response_type="code"), tls=False,
         headers={"X-Forwarded-Proto": "https"}, redirect=r"^http://google\.test/kong\?code=\w{32}&foo=bar$"),
    Case("multiple redirect_uris", (830, 831, 832), "oauth2_6.test",
         authorize(client_id="clientid456", scope="email", response_type="code"), tls=False,
         headers={"X-Forwarded-Proto": "https"}, redirect=r"^http://one\.test/one/\?code=\w{32}$"),
    Case("not under HTTPS", (850, 851, 853, 854), "oauth2.test", authorize(scope="email", response_type="code"),
         tls=False, status=400, fields=HTTPS),
    Case("HTTP with accept_http_if_already_terminated", (873, 874), "oauth2_6.test",
         authorize(scope="email", response_type="code"), tls=False, headers={"X-Forwarded-Proto": "https"},
         redirect=CODE),
    Case("HTTP without accept_http_if_already_terminated", (893, 894, 896, 897), "oauth2.test",
         authorize(scope="email", response_type="code"), tls=False, headers={"X-Forwarded-Proto": "https"},
         status=400, fields=HTTPS),
    Case("success", (915, 916), "oauth2.test", authorize(scope="email", response_type="code"), redirect=CODE),
    Case("a path with the wrong provision_key", (934, 936), "example-path.test",
         authorize(provision_key="provision123a", scope="email", response_type="code"), status=400,
         json=INVALID_PROVISION),
    Case("success with a path", (953, 954), None, authorize(scope="email", response_type="code"),
         path="/somepath/oauth2/authorize", redirect=CODE),
    Case("success with a final slash", (972, 973), "oauth2.test", authorize(scope="email", response_type="code"),
         path="/oauth2/authorize/", redirect=CODE),
    Case("success with a state", (992, 993, 995, 996), "oauth2.test",
         authorize(scope="email", response_type="code", state="hello"), redirect=CODE_STATE, no_store=True),
    Case("success, authenticated user", (1015, 1016), "oauth2.test",
         authorize(scope="email", response_type="code", state="hello", authenticated_userid="userid123"),
         redirect=CODE_STATE),
    Case("success, dotted scope", (1045, 1046), "oauth2.test",
         authorize(scope="user.email", response_type="code", state="hello", authenticated_userid="userid123"),
         redirect=CODE_STATE),
    Case("code_challenge_method not supported", (1076, 1078), "oauth2.test",
         {**PKCE, "code_challenge": "1234", "code_challenge_method": "foo"}, status=400,
         json=redirect_error("invalid_request", "code_challenge_method%20is%20not%20supported%2c%20must%20be%20S256",
                             "hello")),
    Case("code_challenge_method without code_challenge", (1098, 1100), "oauth2.test",
         {**PKCE, "code_challenge_method": "H256"}, status=400,
         json=redirect_error("invalid_request", "code_challenge%20is%20required%20when%20code_method%20is%20present",
                             "hello")),
    Case("no code_challenge for a public client", (1119, 1121), "oauth2.test", PKCE, status=400,
         json=redirect_error("invalid_request", "code_challenge%20is%20required%20for%20public%20clients", "hello")),
    Case("no code_challenge, confidential client, pkce strict", (1140, 1142), "oauth2_15.test",
         {**PKCE, "client_id": "clientid123"}, status=400,
         json=redirect_error("invalid_request", "code_challenge%20is%20required%20for%20confidential%20clients",
                             "hello")),
    Case("no code_challenge, public client, pkce none", (1161, 1164, 1166), "oauth2_14.test", PKCE,
         redirect=CODE_STATE),
    Case("code_challenge without method", (1187, 1190, 1192), "oauth2.test", {**PKCE, "code_challenge": "1234"},
         redirect=CODE_STATE),
    Case("saves the code challenge", (1216,), "oauth2.test",
         {**PKCE, "code_challenge": "1234", "code_challenge_method": "S256"}, redirect=CODE_STATE),
    # ---------------------------------------------------------------- Implicit Grant
    Case("implicit, token expiration", (1286, 1287), "oauth2.test", authorize(scope="email", response_type="token"),
         redirect=IMPLICIT),
    Case("implicit, user properties", (1314, 1315), "oauth2.test",
         authorize(scope="email profile", response_type="token", authenticated_userid="userid123"), redirect=IMPLICIT),
    Case("implicit", (1245, 1246, 1247, 1248), "oauth2.test", authorize(scope="email", response_type="token"),
         redirect=r"^http://google\.test/kong#access_token=\w{32}&expires_in=\d+&token_type=bearer$", no_store=True),
    Case("implicit with a state", (1267, 1268), "oauth2.test",
         authorize(scope="email", response_type="token", state="wot"),
         redirect=r"^http://google\.test/kong#access_token=\w{32}&expires_in=\d+&state=wot&token_type=bearer$"),
    # ---------------------------------------------------------------- Client Credentials
    Case("client_secret not sent", (1384, 1386), "oauth2_4.test",
         {"client_id": "clientid123", "scope": "email", "response_type": "token"}, path="/oauth2/token",
         status=400, json=INVALID_CLIENT),
    Case("empty client_id and client_secret", (1404, 1406), "oauth2_4.test",
         {"client_id": "", "client_secret": "", "scope": "email", "response_type": "token",
          "grant_type": "client_credentials"}, path="/oauth2/token", status=400, json=INVALID_CLIENT),
    Case("missing client_id and client_secret", (1422, 1424), "oauth2_4.test",
         {"scope": "email", "response_type": "token", "grant_type": "client_credentials"}, path="/oauth2/token",
         status=400, json=INVALID_CLIENT),
    Case("GET token endpoint without realm", (1436, 1438, 1440), "oauth2_4.test", None, method="GET",
         path="/oauth2/token?client_id&grant_type=client_credentials&client_secret", status=405,
         json={"error_description": GET_TOKEN, "error": "invalid_method"},
         challenge=f'Bearer error="invalid_method" error_description="{GET_TOKEN}"'),
    Case("GET token endpoint with realm", (1452, 1454, 1456), "oauth2_5.test", None, method="GET",
         path="/oauth2/token?client_id&grant_type=client_credentials&client_secret", status=405,
         json={"error_description": GET_TOKEN, "error": "invalid_method"},
         challenge=f'Bearer realm="test-oauth2" error="invalid_method" error_description="{GET_TOKEN}"'),
    Case("grant_type not sent", (1473, 1475), "oauth2_4.test",
         {"client_id": "clientid123", "client_secret": "secret123", "scope": "email", "response_type": "token"},
         path="/oauth2/token", status=400, json={"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
    Case("client credentials not under HTTPS", (1492, 1493, 1495, 1496), "oauth2_4.test", CC, path="/oauth2/token",
         tls=False, status=400, fields=HTTPS),
    Case("authenticated_userid and no provision_key", (1514, 1516), "oauth2_4.test",
         {**CC, "authenticated_userid": "user123"}, path="/oauth2/token", status=400, json=INVALID_PROVISION),
    Case("authenticated_userid and an invalid provision_key", (1535, 1537), "oauth2_4.test",
         {**CC, "authenticated_userid": "user123", "provision_key": "hello"}, path="/oauth2/token", status=400,
         json=INVALID_PROVISION),
    Case("client credentials success", (1554, 1556, 1557, 1558, 1559), "oauth2_4.test", CC, path="/oauth2/token",
         token=True),
    Case("multiple redirect_uri", (1576, 1578, 1579, 1580, 1581), "oauth2_4.test",
         {**CC, "client_id": "clientid456", "client_secret": "secret456"}, path="/oauth2/token", token=True),
    Case("multiple redirect_uri and a valid one passed", (1599, 1601, 1602, 1603, 1604), "oauth2_4.test",
         {**CC, "client_id": "clientid456", "client_secret": "secret456", "redirect_uri": "http://two.test/two"},
         path="/oauth2/token", token=True),
    Case("no redirect_uri", (1621, 1623, 1624, 1625, 1626), "oauth2_4.test",
         {**CC, "client_id": "clientid10112", "client_secret": "secret10112"}, path="/oauth2/token", token=True),
    Case("authenticated_userid and a valid provision_key", (1645, 1647, 1648, 1649, 1650), "oauth2_4.test",
         {**CC, "authenticated_userid": "hello", "provision_key": "provision123"}, path="/oauth2/token", token=True),
    Case("authorization header", (1666, 1668, 1669, 1670, 1671), "oauth2_4.test",
         {"scope": "email", "grant_type": "client_credentials"}, path="/oauth2/token",
         headers={"Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTIz"}, token=True),
    Case("authorization header and client_id", (1688, 1690, 1691, 1692, 1693), "oauth2_4.test",
         {"client_id": "clientid123", "scope": "email", "grant_type": "client_credentials"}, path="/oauth2/token",
         headers={"Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTIz"}, token=True),
    Case("wrong authorization header", (1709, 1711, 1712), "oauth2_4.test",
         {"scope": "email", "grant_type": "client_credentials"}, path="/oauth2/token",
         headers={"Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTI0"}, status=401, json=INVALID_CLIENT,
         challenge='Basic realm="OAuth2.0"'),
    # ---------------------------------------------------------------- Password Grant
    Case("no token, no realm", (1790, 1792, 1793), "oauth2_4.test", None, path="/request", method="GET",
         status=401, json=MISSING, challenge="Bearer"),
    Case("no token, with realm", (1803, 1805, 1806), "oauth2_5.test", None, path="/request", method="GET",
         status=401, json=MISSING, challenge='Bearer realm="test-oauth2"'),
    Case("password: client_secret not sent", (1822, 1824), "oauth2_5.test",
         {"client_id": "clientid123", "scope": "email", "response_type": "token"}, path="/oauth2/token",
         status=400, json=INVALID_CLIENT),
    Case("password: grant_type not sent", (1841, 1843), "oauth2_5.test",
         {"client_id": "clientid123", "client_secret": "secret123", "scope": "email", "response_type": "token"},
         path="/oauth2/token", status=400,
         json={"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
    Case("password: no provision_key, response_type", (1861, 1863), "oauth2_5.test",
         {**PW, "response_type": "token"}, path="/oauth2/token", status=400, json=INVALID_PROVISION),
    Case("password: no provision_key", (1880, 1882), "oauth2_5.test", PW, path="/oauth2/token", status=400,
         json=INVALID_PROVISION),
    Case("password: no authenticated_userid", (1900, 1902), "oauth2_5.test", {**PW, "provision_key": "provision123"},
         path="/oauth2/token", status=400,
         json={"error_description": "Missing authenticated_userid parameter", "error": "invalid_authenticated_userid"}),
    Case("password success", (1921, 1923, 1924, 1925, 1926, 1927, 1928), "oauth2_5.test",
         {**PW, "provision_key": "provision123", "authenticated_userid": "id123"}, path="/oauth2/token", token=True,
         refresh=True),
    Case("password with authorization header", (1946, 1948, 1949, 1950, 1951, 1952, 1953), "oauth2_5.test",
         {"provision_key": "provision123", "authenticated_userid": "id123", "scope": "email", "grant_type": "password"},
         path="/oauth2/token", headers={"Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTIz"}, token=True,
         refresh=True),
    Case("password with a wrong authorization header", (1971, 1973, 1974), "oauth2_5.test",
         {"provision_key": "provision123", "authenticated_userid": "id123", "scope": "email", "grant_type": "password"},
         path="/oauth2/token", headers={"Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTI0"}, status=401,
         json=INVALID_CLIENT, challenge='Basic realm="OAuth2.0"'),
]  # fmt: skip


cannot_run(SPEC, "gRPC (proxy_client_grpc): the reference gateway has no gRPC listener", 657, 658)
cannot_run(
    SPEC,
    "reads Kong's DAO (db.oauth2_authorization_codes:select_by_code, db.oauth2_tokens:select_by_access_token)",
    *(1023, 1024, 1025, 1026, 1053, 1054, 1055, 1194, 1195, 1223, 1224, 1294, 1295, 1296, 1322, 1323, 1324),
    *(1327, 1328),
)
cannot_run(
    SPEC,
    "errors of the Lua regex iterator (ngx.re.gmatch)",
    *(1019, 1021, 1049, 1051, 1219, 1221, 1290, 1292, 1318, 1320, 1348, 1350, 3028, 3030, 3100, 3102),
)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@ports(SPEC, *sorted({n for c in CASES for n in c.lines}))
def test_oauth2_endpoint_answers_as_kongs_spec(oauth2_access: Kong, case: Case) -> None:
    check(oauth2_access, case)


@ports(SPEC, 1346, 1360, 1361, 1362, 1363, 1364, 1365)
def test_implicit_token_sets_the_upstream_headers(oauth2_access: Kong) -> None:
    body = authorize(scope="email profile", response_type="token", authenticated_userid="userid123")
    resp = oauth2_access.proxy_tls.post("/oauth2/authorize", json=body, headers={"Host": "oauth2.test"})
    assert resp.status_code == 200
    match = re.match(r"^http://google\.test/kong#access_token=(\w{32})&expires_in=\d+&token_type=bearer$",
                     resp.json()["redirect_uri"])  # fmt: skip
    assert match
    proxied = oauth2_access.proxy_tls.get(
        f"/request?access_token={match[1]}", headers={"Host": "oauth2.test"}
    )
    assert_bob_upstream(proxied, "email profile", "userid123")


@ports(SPEC, 1992, 2001, 2002, 2003, 2004, 2005, 2006)
def test_password_token_sets_the_upstream_headers(oauth2_access: Kong) -> None:
    body = {
        "provision_key": "provision123",
        "authenticated_userid": "id123",
        "scope": "email",
        "grant_type": "password",
    }
    headers = {"Host": "oauth2_5.test", "Authorization": "Basic Y2xpZW50aWQxMjM6c2VjcmV0MTIz"}
    resp = oauth2_access.proxy_tls.post("/oauth2/token", json=body, headers=headers)
    assert resp.status_code == 200
    proxied = oauth2_access.proxy_tls.get(
        f"/request?access_token={resp.json()['access_token']}", headers={"Host": "oauth2_5.test"}
    )
    assert_bob_upstream(proxied, "email", "id123")


@ports(SPEC, 1731, 1740, 1741, 1742, 1743, 1744, 1745, 1764, 1777)
def test_client_credentials_token_sets_the_upstream_headers(oauth2_access: Kong) -> None:
    body = {**CC, "authenticated_userid": "hello", "provision_key": "provision123"}
    resp = oauth2_access.proxy_tls.post("/oauth2/token", json=body, headers={"Host": "oauth2_4.test"})
    assert resp.status_code == 200
    token = resp.json()["access_token"]
    proxied = oauth2_access.proxy_tls.get(f"/request?access_token={token}", headers={"Host": "oauth2_4.test"})
    assert_bob_upstream(proxied, "email", "hello")
    # the spec's multipart request (L1747): the token in a multipart form body
    multipart = oauth2_access.proxy_tls.post(
        "/request", files={"access_token": (None, token)}, headers={"Host": "oauth2_4.test"}
    )
    assert multipart.status_code == 200, multipart.text
