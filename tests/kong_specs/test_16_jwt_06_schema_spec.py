"""Replay of Kong's jwt schema spec (spec/03-plugins/16-jwt/06-schema_spec.lua) through our Admin API: the
config is validated by creating the plugin on a fresh service (201, or 400 ``schema violation``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.kong_specs.cite import ports, spec_url
from tests.kong_specs.kong import Kong

SPEC = spec_url("16-jwt/06-schema_spec.lua")


def validate(kong: Kong, config: dict[str, Any]) -> httpx.Response:
    svc = kong.post("/services", {"url": kong.upstream_url})
    return kong.admin.post(f"/services/{svc['id']}/plugins", json={"name": "jwt", "config": config})


@ports(SPEC, 12, 13)
def test_validates_maximum_expiration(kong: Kong) -> None:
    resp = validate(kong, {"maximum_expiration": 60, "claims_to_verify": ["exp", "nbf"]})
    assert resp.status_code == 201, resp.text


@pytest.mark.parametrize("claims", [["exp", "nbf"], ["nbf"]])
@ports(SPEC, 23, 24, 33, 34)
def test_negative_maximum_expiration_is_refused(kong: Kong, claims: list[str]) -> None:
    resp = validate(kong, {"maximum_expiration": -1, "claims_to_verify": claims})
    assert resp.status_code == 400
    assert resp.json()["fields"]["config"] == {"maximum_expiration": "value should be between 0 and 31536000"}


@ports(SPEC, 45, 46)
def test_maximum_expiration_requires_exp_in_claims_to_verify(kong: Kong) -> None:
    resp = validate(kong, {"maximum_expiration": 60, "claims_to_verify": ["nbf"]})
    assert resp.status_code == 400
    assert resp.json()["fields"]["config"]["claims_to_verify"] == "expected to contain: exp"
