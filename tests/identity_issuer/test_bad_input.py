"""Bad input to the issuer endpoints gives a well-formed 4xx, never a 5xx (common rules; issue 2 item 3)."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.identity_issuer.helpers import Issuer

PATHS = ["/oauth/token", "/introspect", "/revoke", "/userinfo"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "multipart/form-data",
    "",
]
FORM_KEYS = ["grant_type", "client_id", "client_secret", "scope", "token", "token_type_hint"]

forms = st.dictionaries(
    st.sampled_from(FORM_KEYS),
    st.one_of(st.text(max_size=40), st.sampled_from(["client_credentials", "a.b.c", "openid", ""])),
    max_size=6,
)
authorizations = st.one_of(
    st.none(),
    st.sampled_from(["Basic", "Basic %%%", "Bearer", "Bearer a.b.c", "Bearer " + "x" * 3000, "Digest x"]),
    st.builds(lambda raw: "Basic " + base64.b64encode(raw).decode(), st.binary(max_size=40)),
    st.builds(
        lambda t: "Bearer " + t, st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-_=0123456789", max_size=200)
    ),
)


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), content_type=st.sampled_from(CONTENT_TYPES), form=forms,
       raw=st.one_of(st.none(), st.binary(max_size=200)), authorization=authorizations)  # fmt: skip
def test_random_requests_never_cause_a_server_error(
    issuer: Issuer,
    path: str,
    content_type: str,
    form: dict[str, str],
    raw: bytes | None,
    authorization: str | None,
) -> None:
    """Random bodies, content types and credentials: 2xx or 4xx with a JSON body, never 5xx."""
    headers = {"Content-Type": content_type} if content_type else {}
    if authorization is not None and authorization.strip():
        headers["Authorization"] = authorization.strip()
    if raw is not None:
        response = issuer.http.post(f"{issuer.url}{path}", content=raw, headers=headers)
    else:
        body = "&".join(f"{k}={v}" for k, v in form.items()).encode("utf-8", "surrogatepass")
        response = issuer.http.post(f"{issuer.url}{path}", content=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]


def test_oversized_body_is_413(issuer: Issuer) -> None:
    """A body over 64 KiB is refused with a JSON error instead of being parsed."""
    response = issuer.http.post(f"{issuer.url}/oauth/token", content=b"a=" + b"x" * 70_000)
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_repeated_token_parameter_at_introspection_is_400(issuer: Issuer) -> None:
    """RFC 6749 3.2 applies to every form-encoded endpoint."""
    response = issuer.http.post(
        f"{issuer.url}/introspect",
        content=b"token=a&token=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(issuer.client.id, issuer.secret),
    )
    assert response.status_code == 400


def test_control_api_rejects_nan_and_non_objects(issuer: Issuer, control: str) -> None:
    """common rules: 400 problem+json for bad control input (NaN is not JSON)."""
    url = f"{control}/auth-servers/{issuer.server.id}/mint"
    for body in (b'{"claims": {"exp": NaN}}', b"[1]", b"{", b"\xff"):
        response = issuer.http.post(url, content=body)
        assert response.status_code == 400, body
        assert response.headers["content-type"] == "application/problem+json"


def test_wrong_method_and_unknown_issuer_path_answer_json(issuer: Issuer, control: str) -> None:
    """common rules: well-formed errors, never plain-text framework pages."""
    wrong_method = issuer.http.get(f"{issuer.url}/introspect")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["allow"]
    unknown = issuer.http.get(f"{issuer.url}/authorize")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    control_unknown = issuer.http.get(f"{control}/nope")
    assert control_unknown.status_code == 404
    assert control_unknown.headers["content-type"] == "application/problem+json"
    assert issuer.http.get(f"{control}/faults/1").status_code == 405
