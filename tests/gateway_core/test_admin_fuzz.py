"""Property: whatever JSON a client sends to the Admin API, the answer is a well-formed Kong response below
500 (issue 3 "Bad input": a Kong-style 400 naming the fields, never a traceback)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import MakeGateway, RunningGateway

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = {
    "/services": ["name", "url", "host", "port", "path", "protocol", "retries", "tags", "enabled"],
    "/routes": ["name", "paths", "hosts", "methods", "protocols", "strip_path", "service", "headers"],
    "/consumers": ["username", "custom_id", "tags", "id"],
    "/plugins": ["name", "config", "route", "service", "protocols", "enabled"],
}


@st.composite
def bodies(draw: Any, path: str) -> Any:
    if draw(st.booleans()):
        return draw(json_values)
    keys = draw(st.lists(st.sampled_from(FIELDS[path]), max_size=5, unique=True))
    body = {k: draw(json_values) for k in keys}
    if path == "/plugins" and draw(st.booleans()):
        body["name"] = draw(st.sampled_from(["openid-connect", "oauth2", "upstream-oauth", "jwt", "nope"]))
    return body


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_admin_api_answers_any_json_below_500(gateway: RunningGateway, path: str) -> None:
    """Bad input to anything we ship gets a clear, well-formed error (common rules; kong/db/errors.lua)."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=bodies(path))
    def check(body: Any) -> None:
        r = gateway.admin.post(path, json=body)
        assert r.status_code < 500, (body, r.text)
        if r.status_code >= 400:
            assert isinstance(r.json().get("message"), str)
        patched = gateway.admin.patch(f"{path}/does-not-exist", json=body)
        assert patched.status_code < 500, (body, patched.text)

    check()


@st.composite
def declarative_docs(draw: Any) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    doc: dict[str, Any] = {"_format_version": draw(st.sampled_from(["3.0", "2.1", "9", 3]))}
    for key, path in (
        ("services", "/services"),
        ("routes", "/routes"),
        ("consumers", "/consumers"),
        ("plugins", "/plugins"),
    ):
        if draw(st.booleans()):
            doc[key] = (
                draw(st.lists(bodies(path), max_size=3)) if draw(st.integers(0, 5)) else draw(json_values)
            )
    return doc


def test_config_endpoint_answers_any_document_below_500(make_gateway: MakeGateway) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: invalid declarative input is a 400 in Kong's shape, never a server error."""
    gw = make_gateway(db_less=True)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(doc=declarative_docs())
    def check(doc: Any) -> None:
        r = gw.admin.post("/config", json=doc)
        assert r.status_code in (201, 400), (doc, r.text)

    check()
