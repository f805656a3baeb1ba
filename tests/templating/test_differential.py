"""Differential tests: our claim-template engine against Go's text/template + Sprig.

https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates (Go text/template with `${`/`}` delimiters), C.4 (the Sprig allow-list),
C.6 (missingkey=error). Both engines get the same template, context and `now`; they must agree
on success or failure and, on success, on the raw rendered text (before JSON typing, C.5).
Skipped, with the reason, when Go and Sprig are not installed (see conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.templating.templating_strategies import NOW_VALUES, contexts, templates, url_texts

from kongformance.identity.templating import TemplateFailure, render_text
from kongformance.identity.templating.oracle import GoTemplateOracle, OracleResult

pytestmark = pytest.mark.oracle

CORPUS = Path(__file__).with_name("go_corpus.txt")
FIXED_NOW = 1_767_323_045.25
CORPUS_CONTEXT: dict[str, Any] = {
    "AuthServer": {
        "ID": "8c6b1d2e-5f0a-4b8c-9d3e-2f1a0b9c8d7e",
        "CreatedAt": "2026-01-02T03:04:05Z",
        "UpdatedAt": "2026-01-02T03:04:05Z",
        "Name": "srv",
        "Description": "",
        "Audience": "aud",
        "SigningAlgorithm": "RS256",
        "Labels": {},
    },
    "Client": {
        "ID": "cid",
        "CreatedAt": "2026-01-02T03:04:05Z",
        "UpdatedAt": "2026-01-02T03:04:05Z",
        "Name": "Bob é",
        "Labels": {"env": "prod", "groups": "a,b,,c"},
        "GrantTypes": ["client_credentials"],
        "RedirectURIs": [],
        "LoginURI": "",
        "ResponseTypes": [],
        "AllowAllScopes": True,
    },
}


def _ours(template: str, context: dict[str, Any], now: float) -> tuple[bool, str]:
    try:
        return True, render_text(template, context, now=now)
    except TemplateFailure as failure:
        return False, str(failure)


# The oracle is Debian's Go 1.19 + Sprig 3.2.3 + xstrings 1.3.3; Kong Identity (2025) most
# plausibly runs newer releases, which our engine follows here (docs/fidelity/templating.md):
# Go >= 1.22 ranges over an integer; xstrings >= 1.4 `camelcase` keeps inner capitals.
_NEWER_GO_RANGE_OVER_INT = re.compile(r"range can't iterate over -?\d+$")


def _known_version_difference(go: OracleResult) -> bool:
    """Go 1.19 refuses ``range`` over an integer, which Go >= 1.22 (our engine) iterates: nothing to compare."""
    return bool(_NEWER_GO_RANGE_OVER_INT.search(go.error))


def _assert_agree(oracle: GoTemplateOracle, template: str, context: dict[str, Any], now: float) -> None:
    go = oracle.render(template, context, now=now)
    if _known_version_difference(go):
        return
    ok, ours = _ours(template, context, now)
    assert ok == go.ok, f"{template!r}: ours ok={ok} ({ours!r}); Go ok={go.ok} ({go.error or go.output!r})"
    if not ok or ours == go.output:
        return
    # xstrings 1.3.3 (the oracle) lowercases capitals inside a word in `camelcase`, xstrings >= 1.4 (our engine)
    # keeps them: with camelcase the two may differ in letter case only, never in anything else
    assert "camelcase" in template and ours.lower() == go.output.lower(), (
        f"{template!r}: ours {ours!r} != Go {go.output!r}"
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, context=contexts, now=NOW_VALUES)
def test_generated_templates_render_exactly_as_go_does(
    go_oracle: GoTemplateOracle, template: str, context: dict[str, Any], now: float
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates and https://developer.konghq.com/identity/auth-servers/#supported-functions: same success/failure and same raw text as Go + Sprig."""
    _assert_agree(go_oracle, template, context, now)


@pytest.mark.parametrize(
    "template",
    [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")],
)
def test_corpus_template_renders_exactly_as_go_does(go_oracle: GoTemplateOracle, template: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions: each allow-listed function family, edge cases found by the fuzzer."""
    _assert_agree(go_oracle, template, CORPUS_CONTEXT, FIXED_NOW)


def test_go_refuses_every_function_outside_the_allow_list_as_we_do(go_oracle: GoTemplateOracle) -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions "Not listed": env, expandenv, fail, regex, semver, crypto generators."""
    for name in (
        "env",
        "expandenv",
        "fail",
        "regexMatch",
        "semver",
        "genPrivateKey",
        "getHostByName",
        "sha512sum",
    ):
        template = f'${{ {name} "x" }}'
        assert go_oracle.render(template, {}, now=0).ok is False, name
        assert _ours(template, {}, 0)[0] is False, name


def test_dates_render_in_utc_whatever_the_machine_time_zone(
    go_oracle: GoTemplateOracle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions date functions: Sprig formats in time.Local; Kong's is taken as UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    for template in (
        '${ toDate "2006-01-02 15:04" "2024-02-29 10:00" | unixEpoch }',
        '${ now | dateInZone "15:04 MST" "Local" }',
        '${ date "15:04 MST" 0 }',
        '${ now | date "2006-01-02T15:04:05Z07:00" }',
    ):
        _assert_agree(go_oracle, template, CORPUS_CONTEXT, FIXED_NOW)


@settings(max_examples=200, deadline=None)
@given(url=url_texts)
def test_url_functions_split_and_join_urls_as_go_net_url_does(go_oracle: GoTemplateOracle, url: str) -> None:
    """https://developer.konghq.com/identity/auth-servers/#supported-functions `urlParse`/`urlJoin`: Go's net/url decides what parses and how it joins."""
    for template in ("${ urlParse .URL | toJson }", "${ urlParse .URL | urlJoin }"):
        _assert_agree(go_oracle, template, {"URL": url}, FIXED_NOW)
