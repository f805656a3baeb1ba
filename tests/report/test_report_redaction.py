"""Redaction of secrets before anything reaches the report.

Spec: the negative-test list of RFC 6750 §3.1 (https://www.rfc-editor.org/rfc/rfc6750#section-3.1) 7.9 ("redacted evidence by default (tokens, secrets, keys) while keeping
attachments useful"); common rules (secrets and tokens never appear unredacted).
"""

from __future__ import annotations

import base64
import json
import re
import string

from hypothesis import given
from hypothesis import strategies as st

from kongformance.report.redaction import forget_all, learn, mask, redact

JWS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.bm90LWEtcmVhbC1zaWduYXR1cmU"
JWE = "eyJhbGciOiJSU0EtT0FFUCJ9.ZW5jcnlwdGVkLWtleQ.aXY.Y2lwaGVydGV4dA.dGFn"
SECRET = "q7vx2m9kd0s4hz1pw8tn5ryb"


def test_redacts_a_jws_and_keeps_a_fingerprint_to_follow_it() -> None:
    """7.9: the token goes, a stable fingerprint stays so one token can be followed through a report."""
    out = redact(f"sent {JWS} twice: {JWS}")
    assert JWS not in out and "bm90LWEtcmVhbC1zaWduYXR1cmU" not in out
    marks = [w for w in out.split("[redacted JWT ")[1:]]
    assert len(marks) == 2 and marks[0][:8] == marks[1][:8]
    assert redact(JWS) != redact(JWS.replace("eyJzdWIi", "eyJzdWJi"))  # another token, another fingerprint


def test_redacts_a_five_part_jwe() -> None:
    """7.9: encrypted tokens are tokens too (RFC 7516 compact form)."""
    out = redact(f"token={JWE}")
    assert "ZW5jcnlwdGVkLWtleQ" not in out and "Y2lwaGVydGV4dA" not in out


def test_redacts_what_is_left_of_a_jwt_cut_short() -> None:
    """pytest truncates long assertion lines, leaving a token's first segment or two without its signature."""
    header, payload = JWS.split(".")[:2]
    for cut in (header, f"{header}.{payload}", f"{header}.{payload[:5]}", header[:12]):
        out = redact(f"AssertionError: assert '{cut}")
        assert header[:12] not in out and "[redacted JWT" in out


def test_redacts_bearer_and_basic_credentials_but_keeps_the_scheme() -> None:
    """7.9: `Bearer <x>` and `Basic <b64>` lose the credential; the scheme stays useful."""
    basic = base64.b64encode(f"client-1:{SECRET}".encode()).decode()
    out = redact(f"Bearer opaque-4f1c9a2b7e and Basic {basic}")
    assert re.fullmatch(r"Bearer \[redacted [0-9a-f]{8}\] and Basic \[redacted [0-9a-f]{8}\]", out)


def test_redacts_an_authorization_header_of_any_scheme() -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: Kong also accepts `Authorization: token <t>`; the credential goes."""
    assert redact("Authorization: token abc123def") == f"Authorization: token {mask('abc123def')}"
    assert redact("{'authorization': 'DPoP Zm9vYmFy9'}") == f"{{'authorization': 'DPoP {mask('Zm9vYmFy9')}'}}"
    assert redact("Proxy-Authorization: s3cr3tvalue") == f"Proxy-Authorization: {mask('s3cr3tvalue')}"


def test_redacts_client_secret_in_a_form_body_json_and_a_python_repr() -> None:
    """7.9: client secrets wherever they appear (form body, JSON, assertion repr)."""
    form = f"grant_type=client_credentials&client_id=c1&client_secret={SECRET}&scope=read"
    assert (
        redact(form) == f"grant_type=client_credentials&client_id=c1&client_secret={mask(SECRET)}&scope=read"
    )
    doc = json.dumps({"client_secret": SECRET, "access_token": "opaque123", "token_type": "Bearer"})
    out = redact(doc)
    assert SECRET not in out and "opaque123" not in out and '"token_type": "Bearer"' in out
    assert SECRET not in redact(repr({"client_secret": SECRET}))
    assert SECRET not in redact(f"secret='{SECRET}'")


def test_redacts_konnect_personal_and_system_access_tokens() -> None:
    """7.9: Konnect `kpat_`/`spat_` tokens keep their prefix (which kind) and lose the value."""
    # made-up values, assembled so that secret scanners do not take the test data for real tokens
    out = redact("KONNECT_TOKEN=" + "kpat_" + "8Hq2LmZx0vTbN4cW7yRk1pJs " + "spat_" + "Zx0vTbN4cW7yRk1pJsD3f")
    assert re.fullmatch(r"KONNECT_TOKEN=kpat_\[redacted [0-9a-f]{8}\] spat_\[redacted [0-9a-f]{8}\]", out)


def test_redacts_a_pem_private_key() -> None:
    """7.9: keys are redacted."""
    kind = "PRIVATE" + " KEY"  # made-up key material, assembled so that secret scanners skip the test data
    pem = f"-----BEGIN {kind}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END {kind}-----"
    out = redact(f"key:\n{pem}\nend")
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in out and out.endswith("end")


def test_keeps_challenges_error_codes_and_prose_useful() -> None:
    """7.9: evidence stays useful: RFC 6750 challenges, error codes and messages survive."""
    for keep in [
        'WWW-Authenticate: Bearer realm="kong", error="invalid_token", error_description="expired"',
        "WWW-Authenticate: Bearer error=invalid_token",
        "expected a Bearer challenge, got 403",
        "The token endpoint accepts client credentials in an HTTP Basic Authorization header.",
        '{"error": "invalid_client", "token_type": "Bearer", "expires_in": 3600}',
        "invalid token: expired",
        "assert 401 == 200",
    ]:
        assert redact(keep) == keep


def test_is_idempotent() -> None:
    """Redacting twice changes nothing (reports may be rebuilt from redacted text)."""
    text = f"Authorization: Bearer {JWS} client_secret={SECRET} kpat_abc123XYZ Basic Zm9vOmJhcg=="
    once = redact(text)
    assert redact(once) == once


_B64URL = string.ascii_letters + string.digits + "-_"
_segment = st.text(alphabet=_B64URL, min_size=4, max_size=60)
_noise = st.text(alphabet=string.ascii_letters + string.digits + " :=,;'\"{}()[]\n", max_size=40)


@given(header=_segment, payload=_segment, signature=_segment, before=_noise, after=_noise)
def test_no_generated_jwt_survives_in_any_context(
    header: str, payload: str, signature: str, before: str, after: str
) -> None:
    """7.9 (property): a JWT embedded in arbitrary text never reaches the output."""
    jwt = f"eyJ{header}.{payload}.{signature}"
    out = redact(f"{before} {jwt} {after}")
    assert jwt not in out


_token68 = st.text(alphabet=_B64URL + "~+/.", min_size=8, max_size=80).filter(
    lambda t: t[0].isalnum() and any(c.isdigit() for c in t)
)


@given(token=_token68, scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "Basic", "DPoP"]))
def test_no_generated_credential_survives_after_a_scheme(token: str, scheme: str) -> None:
    """7.9 (property): whatever credential follows an authentication scheme is gone."""
    assert token not in redact(f"Authorization: {scheme} {token}")
    assert token not in redact(f"sent {scheme} {token} to the gateway")


@given(secret=st.text(alphabet=string.ascii_lowercase + string.digits, min_size=8, max_size=40))
def test_no_generated_client_secret_survives_in_a_form_or_json(secret: str) -> None:
    """7.9 (property): client_secret values in form bodies and JSON are gone."""
    assert f"client_secret={secret}" not in redact(f"client_id=c&client_secret={secret}&x=1")
    out = redact(json.dumps({"client_id": "c", "client_secret": secret}))
    assert json.loads(out)["client_secret"] == mask(secret)


def test_two_values_keep_distinct_fingerprints() -> None:
    """Issue 11: a short suffix tells redacted values apart without revealing them."""
    a, b = redact("client_secret=aaaa1111bbbb"), redact("client_secret=aaaa1111bbbc")
    assert a != b and "aaaa1111" not in a + b


def test_redacts_cookies_but_keeps_their_names_and_attributes() -> None:
    out = redact("Cookie: session=abc123def; theme=dark\nSet-Cookie: sid=xyz987; Path=/; HttpOnly")
    assert "abc123def" not in out and "xyz987" not in out
    assert "Cookie: session=[redacted " in out and "; Path=/; HttpOnly" in out
    assert redact(out) == out


def test_masks_every_learned_secret_wherever_it_appears() -> None:
    """Issue 11: the run's own secrets (an opaque token, a client secret) are masked as exact values."""
    opaque, secret = "op4que-t0ken-of-the-run", "plainsecretvalue99"
    try:
        learn(opaque, secret, "short")
        out = redact(f"got {opaque}!{secret} and short")
        assert opaque not in out and secret not in out and out.endswith("and short")
        assert mask(opaque) in out
    finally:
        forget_all()


def test_redacts_a_credential_inside_a_quoted_json_value() -> None:
    """Issue 11: the echo upstream's JSON shows the Authorization header it got; the credential goes."""
    basic = base64.b64encode(f"client-1:{SECRET}".encode()).decode()
    for cred in (basic, "opaque-4f1c9a2b7e"):
        for scheme in ("Basic", "Bearer"):
            out = redact(json.dumps({"headers": {"Authorization": f"{scheme} {cred}"}}))
            assert cred not in out and f'"{scheme} [redacted ' in out
