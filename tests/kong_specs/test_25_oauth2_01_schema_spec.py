"""Replay of Kong's oauth2 schema spec (spec/03-plugins/25-oauth2/01-schema_spec.lua) through our Admin API:
where Kong's spec validates a config with ``validate_plugin_config_schema``, we create the plugin on a fresh
service and read Kong's answer (201 with the stored config, or 400 ``schema violation`` with ``fields``).
The spec's ``validate_insert`` checks of the oauth2_tokens / oauth2_authorization_codes DAO schemas are
Kong-internal, and so are the authorization-code reads of its cascade-delete test (that table has no Admin
API): docs/fidelity/kong-spec-replay.md. The token reads of that test go through ``/oauth2_tokens``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.kong_specs.cite import cannot_run, ports, spec_url
from tests.kong_specs.kong import Kong

SPEC = spec_url("25-oauth2/01-schema_spec.lua")
DAO_MAX_TTL = 100000000  # kong/constants.lua DATABASE.DAO_MAX_TTL at 3.9.0
FLOWS = "enable_authorization_code, enable_implicit_grant, enable_client_credentials, enable_password_grant"


cannot_run(SPEC, "validate_insert of Kong's internal oauth2_tokens / oauth2_authorization_codes DAO schemas",
           112, 113, 124, 125, 138, 139, 147, 148, 157, 158, 167, 168)  # fmt: skip
cannot_run(SPEC, "oauth2_authorization_codes rows read through Kong's DAO (generate_admin_api = false)",
           197, 198, 217, 218)  # fmt: skip


def validate(kong: Kong, config: dict[str, Any]) -> httpx.Response:
    """Kong's schema validation of ``config``, as the Admin API answers a new oauth2 plugin on a new service."""
    svc = kong.post("/services", {"url": kong.upstream_url})
    return kong.admin.post(f"/services/{svc['id']}/plugins", json={"name": "oauth2", "config": config})


def accepted(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text  # ok truthy, errors falsy
    config: dict[str, Any] = resp.json()["config"]
    return config


@ports(SPEC, 27, 28)
def test_scopes_not_required_when_mandatory_scope_is_false(kong: Kong) -> None:
    accepted(validate(kong, {"enable_authorization_code": True, "mandatory_scope": False}))


@ports(SPEC, 32, 33)
def test_valid_with_scopes_and_mandatory_scope(kong: Kong) -> None:
    accepted(
        validate(
            kong, {"enable_authorization_code": True, "mandatory_scope": True, "scopes": ["email", "info"]}
        )
    )


@ports(SPEC, 38, 39, 40, 53, 54, 55, 56, 57)
def test_autogenerates_provision_key_and_defaults_auth_header_name(kong: Kong) -> None:
    config = accepted(
        validate(
            kong, {"enable_authorization_code": True, "mandatory_scope": True, "scopes": ["email", "info"]}
        )
    )
    assert config["provision_key"]
    assert len(config["provision_key"]) == 32
    assert config["auth_header_name"] == "authorization"


@ports(SPEC, 45, 46, 47, 48, 63, 64, 65, 66, 67)
def test_keeps_a_given_provision_key_and_auth_header_name(kong: Kong) -> None:
    body = {"enable_authorization_code": True, "mandatory_scope": True, "scopes": ["email", "info"]}
    config = accepted(
        validate(kong, {**body, "provision_key": "hello", "auth_header_name": "custom_header_name"})
    )
    assert config["provision_key"] == "hello"
    assert config["auth_header_name"] == "custom_header_name"


@ports(SPEC, 72, 73, 74, 87, 88, 89)
def test_refresh_token_ttl_and_reuse_refresh_token_defaults(kong: Kong) -> None:
    config = accepted(validate(kong, {"enable_authorization_code": True, "mandatory_scope": False}))
    assert config["refresh_token_ttl"] == 1209600
    assert config["reuse_refresh_token"] is False


@ports(SPEC, 79, 80)
def test_refresh_token_ttl_above_the_dao_max_ttl_is_refused(kong: Kong) -> None:
    resp = validate(
        kong, {"enable_authorization_code": True, "mandatory_scope": False, "refresh_token_ttl": 252979200}
    )
    assert resp.status_code == 400
    assert resp.json()["fields"] == {
        "config": {"refresh_token_ttl": f"value should be between 0 and {DAO_MAX_TTL}"}
    }


@ports(SPEC, 95, 97)
def test_at_least_one_flow_is_required(kong: Kong) -> None:
    resp = validate(kong, {})
    assert resp.status_code == 400
    assert resp.json()["fields"]["config"] == f"at least one of these fields must be true: {FLOWS}"


@ports(SPEC, 102, 103)
def test_scopes_required_when_mandatory_scope_is_true(kong: Kong) -> None:
    resp = validate(kong, {"enable_authorization_code": True, "mandatory_scope": True})
    assert resp.status_code == 400
    assert resp.json()["fields"]["config"]["scopes"] == "required field missing"


@pytest.mark.parametrize("flow", FLOWS.split(", "))
def test_each_flow_alone_satisfies_the_flow_rule(kong: Kong, flow: str) -> None:
    """The counterpart of L95: any one of the four flows is enough (the rule names all four)."""
    accepted(validate(kong, {flow: True, "mandatory_scope": False}))


@ports(SPEC, 193, 194, 201, 202, 203, 207, 208, 212, 213)
def test_deleting_a_service_deletes_its_oauth2_tokens(kong: Kong) -> None:
    service = kong.post("/services", {"url": kong.upstream_url})
    consumer = kong.post("/consumers", {"username": f"cascade-{service['id']}"})
    cred = kong.post(
        f"/consumers/{consumer['id']}/oauth2", {"name": "app", "redirect_uris": ["http://example.com"]}
    )
    token = kong.post(
        "/oauth2_tokens",
        {"credential": {"id": cred["id"]}, "service": {"id": service["id"]}, "expires_in": 10},
    )
    assert kong.admin.get(f"/oauth2_tokens/{token['id']}").status_code == 200
    assert kong.admin.delete(f"/services/{service['id']}").status_code == 204
    assert kong.admin.get(f"/services/{service['id']}").status_code == 404
    assert kong.admin.get(f"/oauth2_tokens/{token['id']}").status_code == 404
