"""The OSS jwt plugin where Kong's own specs (spec/03-plugins/16-jwt at 3.9.0) pin behaviour users meet:
secret_is_base64 with an RS256 credential, EdDSA credentials, a missing anonymous consumer, and the schema
rule tying maximum_expiration to exp.

The profile's jwt consumer holds the RS256 credential (handles.jwt) plus Ed25519 and Ed448 credentials
derived from it (:func:`kongformance.profile_credentials.jwt_eddsa_keys`). Route ``jwt-base64`` sets
secret_is_base64; route ``jwt-anonymous-missing`` names a consumer that does not exist as anonymous.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from fixtures.http import Proxy, Upstream
from fixtures.oracle import assert_proxied

from kongformance.clients.kong_admin import TAG, KongAdmin
from kongformance.profile import ProfileHandles
from kongformance.profile_credentials import jwt_eddsa_keys, missing_anonymous
from kongformance.targets import Stack

SPECS = "https://github.com/Kong/kong/blob/3.9.0/spec/03-plugins/16-jwt"


def gateway_now(stack: Stack) -> int:
    """The gateway's notion of now (its virtual clock locally, else the wall clock)."""
    if stack.virtual_clock:
        answer = httpx.get(stack.admin_url + "/_emulator/clock", timeout=10.0)
        if answer.status_code == 200:
            return int(answer.json()["now"])
    return int(time.time())


def claims(iss: str, now: int) -> dict[str, Any]:
    return {"iss": iss, "sub": "kf", "iat": now, "nbf": now, "exp": now + 60}


@pytest.mark.requirement("KONG-JWT-secret-is-base64-hs-only")
def test_secret_is_base64_leaves_an_rs256_public_key_as_it_is(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kf_stack: Stack
) -> None:
    """16-jwt/03-access_spec.lua@3.9.0 L738-L753 ("proxies the request if conf.secret is base64"): an RS256
    token is verified with the PEM as stored, 200, X-Credential-Identifier = the credential key."""
    key = kf_profile.jwt
    assert key is not None, "the profile carries no jwt key"
    token = pyjwt.encode(claims(key.key, gateway_now(kf_stack)), key.private_pem, algorithm="RS256")
    result = proxy.request("jwt-base64", token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Credential-Identifier") == key.key


@pytest.mark.requirement("KONG-JWT-eddsa")
@pytest.mark.parametrize("curve", ["Ed25519", "Ed448"])
def test_accepts_an_eddsa_token_of_a_consumers_eddsa_credential(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kf_stack: Stack, curve: str
) -> None:
    """16-jwt/03-access_spec.lua@3.9.0 L1024-L1058 (EdDSA, Kong 3.7+): 200, X-Credential-Identifier = key."""
    keys = jwt_eddsa_keys(kf_profile)
    if curve not in keys:
        pytest.skip("the profile has no jwt credential")
    key = keys[curve]
    token = pyjwt.encode(claims(key.key, gateway_now(kf_stack)), key.private_key, algorithm="EdDSA")
    result = proxy.request("jwt", token=token)
    assert_proxied(result, upstream)
    assert result.upstream_header("X-Credential-Identifier") == key.key


@pytest.mark.requirement("KONG-JWT-anonymous-missing")
def test_a_missing_anonymous_consumer_is_a_500_that_names_it(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kf_stack: Stack
) -> None:
    """16-jwt/03-access_spec.lua@3.9.0 L1238-L1246 (500); from 3.10 the message names the consumer
    (https://github.com/Kong/kong/commit/35aa60546de8d313c792f32afcb3ec71fd179520, spec L1247-L1248)."""
    result = proxy.request("jwt-anonymous-missing")
    assert result.status == 500, result.response.text[:200]
    assert not upstream.seen(result.probe)
    message = result.json().get("message")
    if kf_stack.version >= (3, 10):
        assert (
            message == f"anonymous consumer {missing_anonymous(kf_profile)} is configured but doesn't exist"
        )
    else:
        assert message == "An unexpected error occurred"


@pytest.mark.requirement("KONG-JWT-schema-maximum-expiration")
@pytest.mark.needs("db")
def test_schema_refuses_maximum_expiration_without_exp_in_claims_to_verify(kong_admin: KongAdmin) -> None:
    """16-jwt/06-schema_spec.lua@3.9.0 L39-L47: 400 schema violation, config.claims_to_verify "expected to
    contain: exp". The plugin is tried on a Service of its own with no route, removed whatever happens."""
    service = kong_admin.call(
        "POST",
        "/services",
        json={"name": f"kf-jwt-schema-{uuid.uuid4().hex[:12]}", "url": "http://127.0.0.1:9/", "tags": [TAG]},
    )
    try:
        config = {"maximum_expiration": 60, "claims_to_verify": ["nbf"]}
        answer = kong_admin.request(
            "POST",
            f"/services/{service['id']}/plugins",
            json={"name": "jwt", "config": config, "tags": [TAG]},
        )
        if answer.status_code == 201:
            kong_admin.call("DELETE", f"/plugins/{answer.json()['id']}", expect=(204, 404))
        assert answer.status_code == 400, f"{answer.status_code}: {answer.text[:200]!r}"
        body = answer.json()
        assert body.get("name") == "schema violation"
        assert body["fields"]["config"]["claims_to_verify"] == "expected to contain: exp"
    finally:
        kong_admin.call("DELETE", f"/services/{service['id']}", expect=(204, 404))


@pytest.mark.requirement("KONG-JWT-absent-claim", "KONG-JWT-5-verification")
def test_a_claim_to_verify_absent_from_the_token_is_refused(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles, kf_stack: Stack
) -> None:
    """16-jwt/03-access_spec.lua@3.9.0 L1121-L1136: route ``jwt`` verifies exp and nbf; a token without nbf is
    401 {"nbf": "must be a number"} with error="invalid_token"."""
    key = kf_profile.jwt
    assert key is not None, "the profile carries no jwt key"
    body = claims(key.key, gateway_now(kf_stack))
    del body["nbf"]
    result = proxy.request("jwt", token=pyjwt.encode(body, key.private_pem, algorithm="RS256"))
    assert result.status == 401, result.response.text[:200]
    assert result.json() == {"nbf": "must be a number"}
    assert 'error="invalid_token"' in result.response.headers.get("www-authenticate", "")
    assert not upstream.seen(result.probe)
