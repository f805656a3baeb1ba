"""Malformed downstream requests get Kong's documented answers, never an exception (https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.gateway_oauth_plugins.oauth_fakes import FakeRuntime, make_ctx, make_request, plugin_entity

from kongformance.gateway.plugins.oauth2 import Oauth2Plugin
from kongformance.gateway.plugins.oauth2_introspection import Oauth2IntrospectionPlugin

CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "multipart/form-data",
        "text/plain",
        "application/json; charset=utf-8",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"[1]",
            b'"x"',
            b"null",
            b"{",
            b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
            b"a=%ZZ&&=",
        ]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content_type=CONTENT_TYPES, body=BODIES, method=st.sampled_from(["GET", "POST", "PUT"]))
def test_oauth2_answers_malformed_bodies_with_a_kong_status(
    content_type: str, body: bytes, method: str
) -> None:
    """https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua: an unreadable body just means no token: 401, or 200 at the token endpoint's checks."""
    runtime = FakeRuntime()
    p = Oauth2Plugin(plugin_entity("Oauth2.json", {"enable_client_credentials": True}), runtime)
    for path in ("/anything", "/x/oauth2/token"):
        request = make_request(path, method=method, body=body, headers=[("Content-Type", content_type)])
        exit_ = runtime.run(p.access(make_ctx(request)))
        assert exit_ is not None and exit_.status in (400, 401, 405)
        assert isinstance(exit_.body, dict) and "error" in exit_.body


@settings(max_examples=60, deadline=None)
@given(content_type=CONTENT_TYPES, body=BODIES)
def test_introspection_answers_malformed_bodies_with_a_kong_status(content_type: str, body: bytes) -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/reference/#schema--config-hide-credentials and https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: 400 for a non-object JSON body, 401 otherwise (unreachable IdP or no token)."""
    runtime = FakeRuntime()
    config = {"introspection_url": "http://127.0.0.1:9/introspect", "authorization_value": "Basic x"}
    p = Oauth2IntrospectionPlugin(plugin_entity("Oauth2Introspection.json", config), runtime)
    request = make_request(method="POST", body=body, headers=[("Content-Type", content_type)])
    exit_ = runtime.run(p.access(make_ctx(request)))
    assert exit_ is not None and exit_.status in (400, 401)


def test_introspection_handles_a_huge_token() -> None:
    """https://developer.konghq.com/plugins/oauth2-introspection/#how-the-oauth-20-introspection-works: a 64 KiB token is still just a token the IdP judges (here unreachable: 401)."""
    runtime = FakeRuntime()
    config = {"introspection_url": "http://127.0.0.1:9/introspect", "authorization_value": "Basic x"}
    p = Oauth2IntrospectionPlugin(plugin_entity("Oauth2Introspection.json", config), runtime)
    request = make_request(headers=[("Authorization", "Bearer " + "a" * 65536)])
    exit_ = runtime.run(p.access(make_ctx(request)))
    assert exit_ is not None and exit_.status == 401
