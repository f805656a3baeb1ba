"""Every openid-connect defect changes observable behaviour, and is checked at exactly one place
(mutation check support; sources cited per defect in oidc_defects.DEFECTS)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kongformance.gateway.plugins import oidc_defects as dx
from kongformance.gateway.plugins import openid_connect
from kongformance.gateway.plugins.base import Exit

from .conftest import ISSUER, NOW, FakeIdp, FakeToken, Harness, make_request, oidc_harness, unsigned
from .test_oidc_bearer_verification import hs256_with_public_key


def _status(result: Exit | None) -> int:
    return 200 if result is None else result.status


def expired(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token({"exp": int(NOW) - 100}))[0])


def foreign_issuer(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token({"iss": "https://evil.example.test"}))[0])


def audience_unmet(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects, audience_required=["api://orders"])
    return _status(h.send(h.idp.token())[0])


def scopes_unmet(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects, scopes_required=["admin"])
    return _status(h.send(h.idp.token())[0])


def alg_none(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(unsigned({"alg": "none", "typ": "JWT"}, {"iss": ISSUER, "exp": int(NOW) + 60}))[0])


def hs256_public_key(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(hs256_with_public_key({"iss": ISSUER, "exp": int(NOW) + 60}))[0])


def rotated_after(seconds: float) -> Callable[[tuple[str, ...]], int]:
    def scenario(defects: tuple[str, ...]) -> int:
        h = oidc_harness(defects=defects)
        h.send(h.idp.token())
        h.runtime.clock.advance(seconds)
        h.idp.rotate()
        return _status(h.send(h.idp.token({"exp": None}))[0])

    return scenario


def future_nbf(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token({"nbf": int(NOW) + 60}))[0])


def future_iat(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token({"iat": int(NOW) + 60}))[0])


def exp_equals_now(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token({"exp": int(NOW)}))[0])


def within_leeway(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects, leeway=10)
    return _status(h.send(h.idp.token({"exp": int(NOW) - 5}))[0])


def _introspection(defects: tuple[str, ...], **config: Any) -> Harness:
    return oidc_harness(
        defects=defects, auth_methods=["introspection"], client_id=["c"], client_secret=["s"], **config
    )


def inactive(defects: tuple[str, ...]) -> int:
    h = _introspection(defects)
    h.idp.introspection["t"] = {"active": False}
    return _status(h.send("t")[0])


def revoked_after_cache_ttl(defects: tuple[str, ...]) -> int:
    h = _introspection(defects, cache_ttl=100)
    h.idp.introspection["t"] = {"active": True}
    h.send("t")
    h.idp.introspection["t"] = {"active": False}
    h.runtime.clock.advance(101)
    return _status(h.send("t")[0])


def client_claim_header(defects: tuple[str, ...]) -> str | None:
    h = oidc_harness(defects=defects, upstream_headers_claims=["email"], upstream_headers_names=["X-Email"])
    _, ctx = h.send(h.idp.token(), headers=[("X-Email", "forged")])
    return ctx.request.headers.get("X-Email")


def lowercase_bearer_forwarded(defects: tuple[str, ...]) -> bool:
    h = oidc_harness(defects=defects)
    token = h.idp.token()
    _, ctx = h.call(make_request(headers=[("Authorization", f"bearer {token}")]))
    return ctx.request.headers.get("Authorization") == f"Bearer {token}"


def challenge_present(defects: tuple[str, ...]) -> bool:
    h = oidc_harness(defects=defects)
    refusal = h.send(None)[0]
    assert refusal is not None
    return "WWW-Authenticate" in refusal.headers


def challenge_without_token(defects: tuple[str, ...]) -> str | None:
    h = oidc_harness(defects=defects)
    refusal = h.send(None)[0]
    assert refusal is not None
    return refusal.headers.get("WWW-Authenticate")


def discovery_down(defects: tuple[str, ...]) -> int:
    h = oidc_harness(FakeIdp(discovery_status=503), defects=defects)
    return _status(h.send(None)[0])


def kong_token_other_service(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects, auth_methods=["kong_oauth2"])
    h.runtime.store.tokens["k"] = FakeToken("k", 3600, int(NOW), "", None, "cr", "cl", "c-bob", "svc-other")
    return _status(h.send("k")[0])


def query_token_hidden(defects: tuple[str, ...]) -> bool:
    h = oidc_harness(defects=defects, hide_credentials=True)
    _, ctx = h.call(make_request(query=[("access_token", h.idp.token())]))
    return ctx.request.query_get("access_token") is None


def nbf_within_leeway(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects, leeway=30)
    return _status(h.send(h.idp.token({"nbf": int(NOW) + 20}))[0])


def form_token_hidden(defects: tuple[str, ...]) -> bytes:
    h = oidc_harness(defects=defects, hide_credentials=True)
    body = f"access_token={h.idp.token()}&kf=1".encode()
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    _, ctx = h.call(make_request(method="POST", headers=headers, body=body))
    return ctx.request.body


def unpublished_kid(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.send(h.idp.token(kid="not-published"))[0])


def x_access_token_header(defects: tuple[str, ...]) -> int:
    h = oidc_harness(defects=defects)
    return _status(h.call(make_request(headers=[("x-access-token", h.idp.token())]))[0])


SCENARIOS: dict[str, tuple[Callable[[tuple[str, ...]], Any], Any]] = {
    dx.ACCEPT_EXPIRED_TOKEN: (expired, 401),
    dx.SKIP_ISSUER_CHECK: (foreign_issuer, 401),
    dx.SKIP_AUDIENCE_REQUIRED: (audience_unmet, 403),
    dx.SKIP_SCOPES_REQUIRED: (scopes_unmet, 403),
    dx.ACCEPT_ALG_NONE: (alg_none, 401),
    dx.ACCEPT_HS256_WITH_PUBLIC_KEY: (hs256_public_key, 401),
    dx.NEVER_REDISCOVER: (rotated_after(31), 200),
    dx.REDISCOVER_WITHOUT_THROTTLE: (rotated_after(29), 401),
    dx.ACCEPT_FUTURE_NBF: (future_nbf, 401),
    dx.ACCEPT_FUTURE_IAT: (future_iat, 401),
    dx.REJECT_AT_EXACT_EXPIRY: (exp_equals_now, 200),
    dx.IGNORE_LEEWAY: (within_leeway, 200),
    dx.INTROSPECTION_IGNORES_ACTIVE: (inactive, 401),
    dx.CACHE_INTROSPECTION_FOREVER: (revoked_after_cache_ttl, 401),
    dx.KEEP_CLIENT_CLAIM_HEADER: (client_claim_header, None),
    dx.FORWARD_CLIENT_AUTHORIZATION: (lowercase_bearer_forwarded, True),
    dx.DROP_WWW_AUTHENTICATE: (challenge_present, True),
    dx.MISSING_SCOPE_GIVES_401: (scopes_unmet, 403),
    dx.NO_ERROR_CODE_WITHOUT_TOKEN: (
        challenge_without_token,
        'Bearer realm="idp.example.test", error="invalid_token"',
    ),
    dx.DISCOVERY_FAILURE_GIVES_401: (discovery_down, 500),
    dx.KONG_OAUTH2_IGNORES_SERVICE: (kong_token_other_service, 401),
    dx.IGNORE_HIDE_CREDENTIALS: (query_token_hidden, True),
    dx.LEEWAY_ONLY_ON_EXP: (nbf_within_leeway, 200),
    dx.HIDE_KEEPS_BODY_TOKEN: (form_token_hidden, b"kf=1"),
    dx.UNKNOWN_KID_TRIES_OTHER_KEYS: (unpublished_kid, 401),
    dx.IGNORE_ACCESS_TOKEN_HEADERS: (x_access_token_header, 200),
}


def test_every_defect_has_a_scenario() -> None:
    """Mutation check: each declared defect is shown to change behaviour below."""
    assert set(SCENARIOS) == {d.name for d in openid_connect.DEFECTS}
    assert len(openid_connect.DEFECTS) >= 12


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_defect_changes_behaviour(name: str) -> None:
    """Kong's behaviour without the defect; something else with it (section in the defect's departs_from)."""
    scenario, kong_behaviour = SCENARIOS[name]
    assert scenario(()) == kong_behaviour
    assert scenario((name,)) != kong_behaviour


def test_each_defect_is_checked_at_exactly_one_place() -> None:
    """defects.py: a defect is checked at exactly one place in code."""
    plugins = Path(openid_connect.__file__).parent
    source = (
        "\n".join(p.read_text() for p in plugins.glob("oidc_*.py"))
        + (plugins / "openid_connect.py").read_text()
    )
    constants = {d.name: const for const, d in _constants().items()}
    for name, const in constants.items():
        uses = re.findall(rf"defects\.on\(\s*dx\.{const}\s*\)", source)
        assert len(uses) == 1, (name, len(uses))


def _constants() -> dict[str, Any]:
    by_name = {d.name: d for d in dx.DEFECTS}
    return {
        attr: by_name[value]
        for attr, value in vars(dx).items()
        if isinstance(value, str) and value in by_name
    }
