"""The documented claim-template examples of https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (S2, S7) and the C.6 rules."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from kongformance.identity.templating import render_claim, render_claims

NOW = 1_767_323_045.0  # 2026-01-02T03:04:05Z


def _context(client_labels: dict[str, str] | None = None, description: str = "") -> dict[str, Any]:
    return {
        "AuthServer": {
            "ID": "3f1c0b5e-6a2d-4e8f-9b7a-1c2d3e4f5a6b",
            "CreatedAt": "2026-01-01T00:00:00Z",
            "UpdatedAt": "2026-01-01T00:00:00Z",
            "Name": "Appointments",
            "Description": description,
            "Audience": "http://myhttpbin.dev",
            "SigningAlgorithm": "RS256",
            "Labels": {},
        },
        "Client": {
            "ID": "0oa1b2c3d4",
            "CreatedAt": "2026-01-01T00:00:00Z",
            "UpdatedAt": "2026-01-01T00:00:00Z",
            "Name": "billing-service",
            "Labels": client_labels or {},
            "GrantTypes": ["client_credentials"],
            "RedirectURIs": [],
            "LoginURI": "",
            "ResponseTypes": [],
            "AllowAllScopes": False,
        },
    }


def test_uuidv4_renders_a_fresh_version_4_uuid() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ uuidv4 }` (new UUID per token)."""
    ok, value = render_claim("${ uuidv4 }", _context(), now=NOW)
    assert ok
    assert uuid.UUID(value).version == 4


def test_client_name_renders_the_client_name() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ .Client.Name }`."""
    assert render_claim("${ .Client.Name }", _context(), now=NOW) == (True, "billing-service")


def test_upper_renders_the_client_name_in_capitals() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ upper .Client.Name }`."""
    assert render_claim("${ upper .Client.Name }", _context(), now=NOW) == (True, "BILLING-SERVICE")


def test_rand_alpha_num_renders_sixteen_alphanumerics() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ randAlphaNum 16 }`."""
    ok, value = render_claim("${ randAlphaNum 16 }", _context(), now=NOW)
    assert ok
    assert re.fullmatch(r"[A-Za-z0-9]{16}", str(value))


def test_now_formatted_with_a_go_layout_uses_the_virtual_clock() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and C.4: `${ now | date "2006-01-02T15:04:05Z07:00" }`; now = Clock time."""
    template = '${ now | date "2006-01-02T15:04:05Z07:00" }'
    assert render_claim(template, _context(), now=NOW) == (True, "2026-01-02T03:04:05Z")
    assert render_claim(template, _context(), now=NOW + 86_400) == (True, "2026-01-03T03:04:05Z")


def test_concatenated_actions_render_audience_dash_client_id() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ .AuthServer.Audience }-${ .Client.ID }`."""
    template = "${ .AuthServer.Audience }-${ .Client.ID }"
    assert render_claim(template, _context(), now=NOW) == (True, "http://myhttpbin.dev-0oa1b2c3d4")


def test_present_label_renders_its_value_despite_default() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ .Client.Labels.environment | default "production" }`."""
    template = '${ .Client.Labels.environment | default "production" }'
    assert render_claim(template, _context({"environment": "staging"}), now=NOW) == (True, "staging")


def test_missing_label_drops_the_claim_even_with_default() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (S7): a missing label drops the claim; `default` does not rescue it."""
    template = '${ .Client.Labels.environment | default "production" }'
    assert render_claim(template, _context(), now=NOW) == (False, None)
    claims = render_claims({"env": template, "kept": "${ .Client.Name }"}, _context(), now=NOW)
    assert claims == {"kept": "billing-service"}


def test_default_replaces_an_empty_value() -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions and https://developer.konghq.com/identity/auth-servers/: `default` returns the fallback for an empty value (description "")."""
    template = '${ .AuthServer.Description | default "no description" }'
    assert render_claim(template, _context(description=""), now=NOW) == (True, "no description")
    assert render_claim(template, _context(description="Appts"), now=NOW) == (True, "Appts")


def test_comma_separated_label_renders_a_json_array_claim() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (S7): `... | splitList "," | compact | toJson` gives an array claim."""
    template = '${ .Client.Labels.groups | default "" | splitList "," | compact | toJson }'
    assert render_claim(template, _context({"groups": "admins,,ops"}), now=NOW) == (True, ["admins", "ops"])


def test_list_without_to_json_stays_a_go_formatted_string() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (S7): a Go template renders a list as `[a b]`, not JSON."""
    assert render_claim("${ .Client.GrantTypes }", _context(), now=NOW) == (True, "[client_credentials]")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${ now | unixEpoch }", 1_767_323_045),
        ("${ .Client.AllowAllScopes }", False),
    ],
)
def test_inferred_consequences_of_typing(template: str, expected: object) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates consequences: unixEpoch -> integer, AllowAllScopes -> boolean."""
    assert render_claim(template, _context(), now=NOW) == (True, expected)


def test_client_named_with_digits_renders_an_integer() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates: `${ .Client.Name }` for a client named `123` -> integer 123."""
    context = _context()
    context["Client"]["Name"] = "123"
    assert render_claim("${ .Client.Name }", context, now=NOW) == (True, 123)


@pytest.mark.parametrize(
    "template",
    [
        '${ env "HOME" }',  # not allow-listed (C.4)
        "${ .Client.Name",  # unterminated action (C.2)
        "${ .Client.Nope }",  # missing field (C.6)
        "${ div 1 0 }",  # execution error (C.6, inferred generalisation)
        '${ fail "no" }',
    ],
)
def test_any_failing_template_drops_only_its_own_claim(template: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (inferred): any parse or execution error omits that single claim."""
    claims = render_claims({"bad": template, "good": "${ .Client.ID }"}, _context(), now=NOW)
    assert claims == {"good": "0oa1b2c3d4"}


def test_braces_that_are_not_the_dollar_delimiter_are_plain_text() -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (inferred): `{{ }}` is plain text; `}` in a quoted literal does not close."""
    assert render_claim("{{ .Client.Name }}", _context(), now=NOW) == (True, "{{ .Client.Name }}")
    assert render_claim('${ "}" }x', _context(), now=NOW) == (True, "}x")
    assert render_claim('a ${- " b " -} c', _context(), now=NOW) == (True, "a b c")


def test_uuid_parse_and_validate_kong_additions() -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions: uuidParse/uuidValidate (Kong additions; semantics inferred from google/uuid)."""
    upper = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"
    assert render_claim(f'${{ uuidParse "{upper}" }}', _context(), now=NOW) == (True, upper.lower())
    assert render_claim('${ uuidParse "nope" }', _context(), now=NOW) == (False, None)
    assert render_claim("${ uuidValidate .AuthServer.ID }", _context(), now=NOW) == (True, True)
    assert render_claim('${ uuidValidate "nope" }', _context(), now=NOW) == (True, False)


def test_one_claim_mutating_the_context_does_not_leak_into_another() -> None:
    """https://developer.konghq.com/identity/auth-servers/ and https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (inferred): each claim renders against its own copy of the context."""
    templates = {"a": '${ set .Client.Labels "x" "1" | toJson }', "b": "${ .Client.Labels.x }"}
    context = _context()
    assert render_claims(templates, context, now=NOW) == {"a": {"x": "1"}}
    assert context["Client"]["Labels"] == {}


def test_a_template_that_is_not_a_string_is_dropped_not_raised() -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/testClaimForClient: failing entries are omitted from the result rather than erroring."""
    claims = render_claims({"bad": 42, "good": "${ .Client.ID }"}, _context(), now=NOW)  # type: ignore[dict-item]
    assert claims == {"good": "0oa1b2c3d4"}
