"""openid-connect's 401/403 bodies and WWW-Authenticate headers (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow)."""

from __future__ import annotations

from typing import Any

import pytest

from kongformance.gateway.plugins.oidc_errors import realm_of, www_authenticate

from .conftest import FakeIdp, oidc_harness

CHALLENGE_401 = 'Bearer realm="idp.example.test", error="invalid_token"'
CHALLENGE_403 = 'Bearer realm="idp.example.test", error="insufficient_scope"'


def test_401_body_and_challenge_without_a_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: 401 always carries error="invalid_token", even when no token was sent."""
    h = oidc_harness()
    result, _ = h.send(None)
    assert result is not None
    assert result.status == 401
    assert result.body == {"message": "Unauthorized"}
    assert result.headers == {"WWW-Authenticate": CHALLENGE_401}


def test_401_for_an_invalid_token_has_the_same_challenge() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: bad signature / malformed token give the same challenge."""
    h = oidc_harness()
    result, _ = h.send("a.b.c")
    assert result is not None and result.headers["WWW-Authenticate"] == CHALLENGE_401


def test_403_body_and_challenge_for_missing_scopes() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: 403 carries error="insufficient_scope" and {"message":"Forbidden"}."""
    h = oidc_harness(scopes_required=["admin"])
    result, _ = h.send(h.idp.token())
    assert result is not None
    assert result.status == 403
    assert result.body == {"message": "Forbidden"}
    assert result.headers["WWW-Authenticate"] == CHALLENGE_403


def test_realm_is_the_issuer_host_without_port_or_scheme() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: realm is the host part of the discovered issuer URL."""
    assert realm_of("https://abc.us.identity.konghq.com:8443/auth") == "abc.us.identity.konghq.com"
    assert realm_of("http://127.0.0.1:9000/x") == "127.0.0.1"
    assert realm_of("not a url") == "kong"


def test_realm_comes_from_the_discovered_issuer() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: the realm follows the discovered issuer, not the configured URL."""
    idp = FakeIdp(issuer="https://issuer.other.test/auth")
    h = oidc_harness(idp)
    result, _ = h.send(None)
    assert result is not None
    assert result.headers["WWW-Authenticate"].startswith('Bearer realm="issuer.other.test"')


def test_expose_error_code_false_drops_error_fields() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: expose_error_code=false drops error/error_description."""
    h = oidc_harness(expose_error_code=False)
    result, _ = h.send(None)
    assert result is not None and result.headers["WWW-Authenticate"] == 'Bearer realm="idp.example.test"'


def test_display_errors_appends_the_reason() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: display_errors=true appends the internal reason to the message."""
    h = oidc_harness(display_errors=True, scopes_required=["admin"])
    result, _ = h.send(h.idp.token())
    assert result is not None
    assert result.body["message"].startswith("Forbidden (required scopes are missing")
    result2, _ = h.send("opaque")
    assert result2 is not None and result2.body["message"].startswith("Unauthorized (")


def test_custom_error_messages() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: texts come from unauthorized_error_message / forbidden_error_message."""
    h = oidc_harness(
        unauthorized_error_message="Nope", forbidden_error_message="Denied", scopes_required=["x"]
    )
    assert h.refusal(None).body == {"message": "Nope"}
    assert h.refusal(h.idp.token()).body == {"message": "Denied"}


def test_description_comes_after_error_with_comma_separators() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: fields comma-and-space separated, error/error_description last."""
    assert www_authenticate("r", "invalid_token", "The access token expired") == (
        'Bearer realm="r", error="invalid_token", error_description="The access token expired"'
    )


@pytest.mark.parametrize(
    ("key", "status"), [("unauthorized_redirect_uri", 401), ("forbidden_redirect_uri", 403)]
)
def test_redirect_options_replace_the_error(key: str, status: int) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: unauthorized_redirect_uri / forbidden_redirect_uri replace the 401/403."""
    redirect: dict[str, Any] = {key: ["https://app.example.test/denied"]}
    h = oidc_harness(scopes_required=["admin"], **redirect)
    token = None if status == 401 else h.idp.token()
    result, _ = h.send(token)
    assert result is not None
    assert result.status == 302
    assert result.headers["Location"] == "https://app.example.test/denied"
