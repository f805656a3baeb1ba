"""Kong's OSS oauth2 plugin protecting what users rely on: the client secret compared exactly, plain HTTP
refused unless a trusted proxy terminated TLS, and ``hide_credentials`` keeping the token from the upstream.

Expected behaviour from Kong's source and specs at 3.9.0 (cited per test). Route ``oauth2-terminated`` is a
global oauth2 plugin with ``accept_http_if_already_terminated`` and ``hide_credentials``; tokens come from
route ``oauth2`` (global too). The plain-HTTP check assumes the runner is not in Kong's ``trusted_ips``
(Kong's default trusts no proxy); the trusted-proxy check sends from the target's ``trusted_source`` (local:
127.0.0.2; elsewhere the ``KF_TRUSTED_SOURCE`` setting, else skipped). Needs a database: the routes are absent, the tests skipped, when DB-less.
"""

from __future__ import annotations

import pytest
from fixtures.http import Proxy, ProxyResult, Upstream
from fixtures.oracle import assert_proxied

from kongformance.profile import ClientCreds, ProfileHandles
from kongformance.run_checks import lacks_reason

ROUTE = "oauth2"
TERMINATED = "oauth2-terminated"
TOKEN_PATH = "/oauth2/token"


def credential(handles: ProfileHandles) -> ClientCreds:
    if handles.oauth2 is None:
        pytest.skip(lacks_reason(["db"], "the oauth2 plugin's credentials need a database"))
    return handles.oauth2


def client_credentials(
    proxy: Proxy, handles: ProfileHandles, route: str, *, secret: str | None = None, **kwargs: object
) -> ProxyResult:
    cred = credential(handles)
    data = {"grant_type": "client_credentials", "client_id": cred.id, "client_secret": secret or cred.secret}
    kwargs.setdefault("scheme", "https")
    return proxy.request(route, "POST", data=data, path_suffix=TOKEN_PATH, **kwargs)  # type: ignore[arg-type]


def issued(proxy: Proxy, handles: ProfileHandles) -> str:
    result = client_credentials(proxy, handles, ROUTE)
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    return str(result.json()["access_token"])


@pytest.mark.requirement("KONG-OAUTH2-secret-exact", "RFC6749-5.2-invalid-client")
def test_the_client_secret_is_compared_exactly(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """kong/plugins/oauth2/access.lua@3.9.0 L586 (``client.client_secret == client_secret``): the secret with
    its letters' case swapped is 400 invalid_client "Invalid client authentication"."""
    secret = credential(kf_profile).secret
    if secret.swapcase() == secret:
        pytest.skip("the credential's secret has no letters to change the case of")
    result = client_credentials(proxy, kf_profile, ROUTE, secret=secret.swapcase())
    assert result.status == 400, f"{result.status}: {result.response.text[:200]!r}"
    assert result.json() == {"error": "invalid_client", "error_description": "Invalid client authentication"}
    assert not upstream.seen(result.probe)


@pytest.mark.requirement("KONG-OAUTH2-forwarded-proto-trusted-only", "KONG-OAUTH2-4.2-https-only")
def test_forwarded_proto_from_an_untrusted_client_does_not_make_plain_http_acceptable(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """kong/tools/http.lua@3.9.0 L209-L234 (``check_https``): X-Forwarded-Proto counts only from a trusted
    IP; otherwise the plain-HTTP token request is 400 access_denied "You must use HTTPS"."""
    result = client_credentials(
        proxy, kf_profile, TERMINATED, scheme="http", headers={"X-Forwarded-Proto": "https"}
    )
    assert result.status == 400, f"{result.status}: {result.response.text[:200]!r}"
    assert result.json() == {"error": "access_denied", "error_description": "You must use HTTPS"}
    assert not upstream.seen(result.probe)


@pytest.mark.requirement("KONG-OAUTH2-forwarded-proto-trusted-only")
def test_forwarded_proto_from_a_trusted_proxy_makes_plain_http_acceptable(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """kong/tools/http.lua@3.9.0 L209-L234 (``check_https``) with ``accept_http_if_already_terminated``: from
    an address in trusted_ips, X-Forwarded-Proto https stands for TLS the proxy terminated; the plain-HTTP
    token request is answered 200 with a bearer token (25-oauth2/03-access_spec.lua@3.9.0 L873-L874)."""
    result = client_credentials(
        proxy, kf_profile, TERMINATED, scheme="http", headers={"X-Forwarded-Proto": "https"}, trusted=True
    )
    assert result.status == 200, f"{result.status}: {result.response.text[:200]!r}"
    body = result.json()
    assert body["token_type"] == "bearer" and body["access_token"], sorted(body)
    assert not upstream.seen(result.probe)


@pytest.mark.requirement("KONG-OAUTH2-hide-credentials")
def test_hide_credentials_removes_the_authorization_header_upstream(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """25-oauth2/03-access_spec.lua@3.9.0 L3917-L3930 ("hides credentials in the header"): proxied, and the
    upstream sees no Authorization header."""
    result = proxy.request(TERMINATED, token=issued(proxy, kf_profile))
    assert_proxied(result, upstream)
    assert result.upstream_header("Authorization") is None


@pytest.mark.requirement("KONG-OAUTH2-hide-credentials")
def test_hide_credentials_removes_the_access_token_argument_upstream(
    proxy: Proxy, upstream: Upstream, kf_profile: ProfileHandles
) -> None:
    """25-oauth2/03-access_spec.lua@3.9.0 L3877-L3889 ("hides credentials in the querystring"): proxied, and
    the upstream URL carries no access_token (other arguments stay)."""
    token = issued(proxy, kf_profile)
    result = proxy.request(TERMINATED, params={"access_token": token, "kf": "1"})
    assert_proxied(result, upstream)
    url = str(result.upstream_saw()["url"])
    assert token not in url and "access_token" not in url
    assert "kf=1" in url
