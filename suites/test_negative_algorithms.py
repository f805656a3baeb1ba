"""Negative catalogue C (algorithms and keys) for the flows that take Kong Identity JWTs.

the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1)-C.39. Attacker keys are generated in the test (cryptography + pyjwt), so
embedded-key attacks (jwk, jku, x5u, x5c) are real: the token verifies under the key it carries or points at.
Key rotation and JWKS failures move the virtual clock past openid-connect's rediscovery_lifetime (30 s,
https://developer.konghq.com/plugins/openid-connect/#discovery-cache) instead of sleeping.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fixtures import jose
from fixtures.forge import Forger
from fixtures.issuer_control import IssuerControl
from fixtures.timing import ClockControl
from fixtures.tokens import Minter, TokenFactory

from kongformance.targets import Stack
from negative_flows import (
    IDENTITY_FLOWS,
    OIDC_BEARER,
    Flow,
    Judge,
    flow_params,
)

FLOWS = flow_params(IDENTITY_FLOWS)
REDISCOVERY_LIFETIME = 30  # https://developer.konghq.com/plugins/openid-connect/#discovery-cache and https://developer.konghq.com/plugins/openid-connect/reference/


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kf-attacker")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def _attacker_token(key: rsa.RSAPrivateKey, claims: dict[str, Any], header: dict[str, Any]) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers=header)


# ------------------------------------------------------------------------------------------- C.25
@pytest.mark.requirement("RFC8725-3.2-alg-none", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2ln"])
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_an_unsecured_token_whatever_the_case_of_none(
    flow: Flow, alg: str, signature: str, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 C.25; RFC 8725 2.1, 3.2; RFC 9068 4 (claims of a real token, alg none, empty or garbage signature)."""
    real = tokens.access_token("default", scope="read")
    forged = jose.unsigned(jose.payload_of(real), alg=alg, kid=jose.header_of(real).get("kid")) + signature
    judge.refusal(flow, judge.proxy.request(flow.route, token=forged))


# ------------------------------------------------------------------------------------------- C.26 / C.27
@pytest.mark.requirement("RFC8725-3.1-alg-confusion", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_an_hmac_token_keyed_with_the_issuers_public_key(
    flow: Flow, alg: str, forge: Forger, judge: Judge
) -> None:
    """anchors 8 C.26, C.27; RFC 8725 3.1; https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow (HS* refused unless enable_hs_signatures)."""
    forged = forge.hmac_with_public_key(alg)
    assert jose.header_of(forged)["alg"] == alg
    judge.refusal(flow, judge.proxy.request(flow.route, token=forged))


# ------------------------------------------------------------------------------------------- C.30
@pytest.mark.requirement("RFC7515-5.2-signature", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("signature", [bytes(64), b"\xff" * 64, bytes(32) + b"\x01" * 32])
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_an_ecdsa_token_with_a_zero_or_out_of_range_signature(
    flow: Flow, signature: bytes, tokens: TokenFactory, judge: Judge
) -> None:
    """anchors 8 C.30; CVE-2022-21449 ("psychic signatures": r = s = 0); RFC 7518 3.4; RFC 8725 3.3."""
    real = tokens.access_token("default", scope="read")
    h, p, _ = jose.segments(jose.with_header(real, alg="ES256"))
    judge.refusal(flow, judge.proxy.request(flow.route, token=f"{h}.{p}.{jose.b64url(signature)}"))


# ------------------------------------------------------------------------------------------- C.31 / C.33
@pytest.mark.requirement("RFC8725-3.10-embedded-key", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.parametrize("member", ["jwk", "x5c", "jwk-with-issuer-kid"])
@pytest.mark.parametrize("flow", FLOWS)
def test_ignores_a_key_embedded_in_the_token(
    flow: Flow,
    member: str,
    forge: Forger,
    tokens: TokenFactory,
    attacker_key: rsa.RSAPrivateKey,
    judge: Judge,
) -> None:
    """anchors 8 C.31, C.33; RFC 7515 4.1.3, 4.1.6; RFC 8725 3.10: the token verifies under the key it carries."""
    kid = "kf-attacker"
    if member == "jwk-with-issuer-kid":  # the issuer's kid on an attacker key
        kid = str(jose.header_of(tokens.access_token("default")).get("kid"))
    header: dict[str, Any] = {"kid": kid}
    if member == "x5c":
        der = _self_signed(attacker_key).public_bytes(serialization.Encoding.DER)
        header["x5c"] = [base64.b64encode(der).decode()]
    else:
        header["jwk"] = _public_jwk(attacker_key, kid)
    forged = _attacker_token(attacker_key, forge.claims(), header)
    judge.refusal(flow, judge.proxy.request(flow.route, token=forged))


# ------------------------------------------------------------------------------------------- C.32
@pytest.mark.requirement("RFC8725-3.10-embedded-key", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.needs("upstream_log")  # proves the key URL was never fetched
@pytest.mark.parametrize("member", ["jku", "x5u"])
@pytest.mark.parametrize("flow", FLOWS)
def test_never_fetches_a_key_url_named_by_the_token(
    flow: Flow, member: str, forge: Forger, kf_stack: Stack, attacker_key: rsa.RSAPrivateKey, judge: Judge
) -> None:
    """anchors 8 C.32; RFC 7515 4.1.2, 4.1.5; RFC 8725 3.10 (SSRF): refused and the key URL is never fetched."""
    marker = f"/anything/kf-{member}-{uuid.uuid4().hex}"
    forged = _attacker_token(
        attacker_key, forge.claims(), {"kid": "kf-attacker", member: kf_stack.upstream_url + marker}
    )
    judge.refusal(flow, judge.proxy.request(flow.route, token=forged))
    base = kf_stack.upstream_log_url or kf_stack.upstream_url
    log = judge.upstream.http.get(base + "/_emulator/requests", params={"path_prefix": marker})
    log.raise_for_status()
    assert log.json()["count"] == 0, f"the gateway fetched the {member} URL named by the token"


# ------------------------------------------------------------------------------------------- C.34 / C.35
@pytest.mark.requirement("RFC7515-4.1.4-unknown-kid", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.parametrize(
    "kid",
    ["kf-unknown", "../../../../dev/null", "' OR '1'='1", "|sleep 10", "$(id)", "k" * 3_000, "\u0000", ""],
    ids=["unknown", "path-traversal", "sql", "pipe", "shell", "3kb", "nul", "empty"],
)
@pytest.mark.parametrize("flow", FLOWS)
def test_refuses_a_token_with_an_unknown_or_injected_kid(
    flow: Flow, kid: str, forge: Forger, judge: Judge
) -> None:
    """anchors 8 C.34, C.35; RFC 7515 4.1.4; RFC 8725 3.10: signed by a key the issuer does not publish."""
    forged = forge.attacker_signed({"kid": kid})
    judge.refusal(flow, judge.proxy.request(flow.route, token=forged))


# ------------------------------------------------------------------------------------------- C.37
@pytest.mark.requirement("OIDC-10.1.1-key-rotation", "RFC7515-4.1.4-unknown-kid", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_refuses_a_token_signed_by_a_key_removed_from_the_jwks_once_caches_refresh(
    mint: Minter, tokens: TokenFactory, issuer_control: IssuerControl, clock: ClockControl, judge: Judge
) -> None:
    """anchors 8 C.37; OIDC Core 10.1.1; RFC 7517 5; https://developer.konghq.com/plugins/openid-connect/#discovery-cache (positive twin: the new kid is accepted)."""
    old = mint.token(mint.claims(lifetime=600))
    judge.proxied(judge.proxy.request(OIDC_BEARER.route, token=old))
    issuer_control.rotate_keys(keep_previous=False)
    clock.advance(REDISCOVERY_LIFETIME + 1)
    judge.proxied(judge.proxy.request(OIDC_BEARER.route, token=tokens.access_token("default")))
    for flow in IDENTITY_FLOWS:
        judge.refusal(flow, judge.proxy.request(flow.route, token=old))


# ------------------------------------------------------------------------------------------- C.38 / C.39
@pytest.mark.requirement("OIDC-10.1.1-key-rotation", "RFC7515-4.1.4-unknown-kid")
@pytest.mark.needs("issuer_control", "virtual_clock")
def test_ignores_an_unparseable_key_in_the_jwks(
    mint: Minter, tokens: TokenFactory, issuer_control: IssuerControl, clock: ClockControl, judge: Judge
) -> None:
    """anchors 8 C.38; RFC 7517 5 (ignore keys with an unknown kty); OIDF oidcc-client-test-ignores-unparseable-key."""
    jwks = clock.http.get(judge.handles.auth_server.issuer + "/.well-known/jwks").json()
    bogus = [{"kty": "PQC-KF", "kid": "kf-pq", "x": "AAAA"}, {"kty": "RSA", "kid": "kf-broken", "n": "!!"}]
    with issuer_control.fault("jwks", status=200, body={"keys": bogus + jwks["keys"]}) as fault:
        clock.advance(REDISCOVERY_LIFETIME + 1)
        unknown = mint.token(mint.claims(), header={"kid": "kf-rediscover"}, key="unknown")
        judge.refusal(OIDC_BEARER, judge.proxy.request(OIDC_BEARER.route, token=unknown))
        assert issuer_control.hits(fault) >= 1, "the gateway did not re-fetch the JWKS on an unknown kid"
        judge.proxied(judge.proxy.request(OIDC_BEARER.route, token=tokens.access_token("default")))


@pytest.mark.requirement("RFC7515-4.1.4-unknown-kid", "RS-no-5xx", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control", "virtual_clock")
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status": 500, "body": {"error": "server_error"}}, id="500"),
        pytest.param(
            {"status": 200, "body": "<html>maintenance</html>", "headers": {"Content-Type": "text/html"}},
            id="html",
        ),
        pytest.param({"status": 200, "body": {"keys": "nope"}}, id="malformed-jwks"),
        pytest.param({"drop_connection": True}, id="connection-dropped"),
    ],
)
def test_fails_closed_when_the_jwks_endpoint_fails(
    failure: dict[str, Any],
    mint: Minter,
    tokens: TokenFactory,
    issuer_control: IssuerControl,
    clock: ClockControl,
    judge: Judge,
) -> None:
    """anchors 8 C.39; RFC 6749 7; https://developer.konghq.com/plugins/openid-connect/#discovery-cache (keeps cached keys when rediscovery fails)."""
    with issuer_control.fault("jwks", **failure):
        clock.advance(REDISCOVERY_LIFETIME + 1)
        unknown = mint.token(mint.claims(), header={"kid": "kf-new-key"}, key="unknown")
        judge.refusal(OIDC_BEARER, judge.proxy.request(OIDC_BEARER.route, token=unknown))
        judge.proxied(judge.proxy.request(OIDC_BEARER.route, token=tokens.access_token("default")))


# ------------------------------------------------------------------------------------------- C.28
@pytest.mark.requirement("RFC8725-3.1-alg-confusion", "RFC6750-3.1-invalid-token", "RS-no-upstream-on-reject")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("alg", ["PS256", "RS384", "RS512"])
@pytest.mark.parametrize("flow", FLOWS)
def test_a_token_whose_alg_differs_from_the_published_keys_alg_is_refused_or_a_departure(
    flow: Flow, alg: str, mint: Minter, judge: Judge
) -> None:
    """anchors 8 C.28; RFC 7517 4.4; RFC 8725 3.1 (one key, one algorithm): the RS256 key signing as another alg.

    No Kong source says whether openid-connect or Kong Identity's introspection compare the token's alg with the
    JWK's; an admitted token is judged through the deviation registry.
    """
    jwks = mint.http.get(judge.handles.auth_server.issuer + "/.well-known/jwks").json()
    forged = mint.token(mint.claims(), header={"alg": alg})
    kid = jose.header_of(forged).get("kid")
    published = [k.get("alg") for k in jwks["keys"] if k.get("kid") == kid]
    assert published and published[0] != alg, f"the key {kid} is published for {published}"
    result = judge.proxy.request(flow.route, token=forged)
    judge.refusal_or_recorded("RFC8725-3.1-alg-confusion", flow, result, detail=alg)


# ------------------------------------------------------------------------------------------- C.36
@pytest.mark.requirement("RS-no-5xx")
@pytest.mark.needs("issuer_control")
@pytest.mark.parametrize("flow", FLOWS)
def test_answers_a_token_without_kid_consistently(flow: Flow, mint: Minter, judge: Judge) -> None:
    """anchors 8 C.36; OIDC Core 10.1: a kid-less token signed by the published key, answered the same way each
    time and never with a 5xx. Whether the verifier picks the key by alg (accepts) or refuses no Kong source
    settles, so either well-formed answer passes (recorded reason): proxied exactly, or the flow's exact refusal."""
    token = mint.token(mint.claims(), header={"kid": None})
    assert "kid" not in jose.header_of(token)
    results = [judge.proxy.request(flow.route, token=token) for _ in range(3)]
    assert len({r.status for r in results}) == 1, f"unstable answers {[r.status for r in results]}"
    for result in results:
        if result.status == 200:
            judge.proxied(result)
        else:
            judge.refusal(flow, result)
