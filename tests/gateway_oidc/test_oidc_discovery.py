"""Discovery, JWKS caching and rediscovery of the openid-connect plugin (https://developer.konghq.com/plugins/openid-connect/ and https://developer.konghq.com/plugins/openid-connect/#discovery-cache)."""

from __future__ import annotations

import pytest

from kongformance.gateway.plugins.oidc_discovery import discovery_url, normalise_issuer

from .conftest import ISSUER, FakeIdp, oidc_harness, public_jwk, rsa_key


@pytest.mark.parametrize(
    ("issuer", "url"),
    [
        ("https://idp/auth", "https://idp/auth/.well-known/openid-configuration"),
        ("https://idp/auth/", "https://idp/auth/.well-known/openid-configuration"),
        (
            "https://idp/auth/.well-known/openid-configuration",
            "https://idp/auth/.well-known/openid-configuration",
        ),
        (
            "https://idp/auth/.well-known/oauth-authorization-server",
            "https://idp/auth/.well-known/oauth-authorization-server",
        ),
    ],
)
def test_issuer_may_be_the_base_url_or_the_full_well_known_url(issuer: str, url: str) -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: Kong appends /.well-known/openid-configuration unless already a well-known URL."""
    assert discovery_url(issuer) == url


def test_normalised_issuer_drops_trailing_slash_and_well_known_suffix() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: iss comparison after removing a trailing / and any well-known suffix."""
    assert normalise_issuer("https://idp/auth/") == "https://idp/auth"
    assert normalise_issuer("https://idp/auth/.well-known/openid-configuration") == "https://idp/auth"


def test_a_full_well_known_issuer_url_works_end_to_end() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: issuer configured as the discovery URL itself."""
    h = oidc_harness(issuer=ISSUER + "/.well-known/openid-configuration")
    assert h.send(h.idp.token())[0] is None


def test_discovery_is_lazy_and_cached() -> None:
    """https://developer.konghq.com/plugins/openid-connect/ and https://developer.konghq.com/plugins/openid-connect/#discovery-cache: discovery happens on the first proxied request, then comes from the cache."""
    h = oidc_harness()
    assert h.idp.calls["discovery"] == 0
    h.send(h.idp.token())
    h.send(h.idp.token())
    assert h.idp.calls["discovery"] == 1
    assert h.idp.calls["jwks"] == 1


def test_discovery_is_reloaded_after_cache_ttl() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: cache_ttl bounds the discovery cache."""
    h = oidc_harness(cache_ttl=60)
    h.send(h.idp.token())
    h.runtime.clock.advance(60)
    h.send(h.idp.token())
    assert h.idp.calls["discovery"] == 1
    h.runtime.clock.advance(1)
    h.send(h.idp.token({"exp": None}))
    assert h.idp.calls["discovery"] == 2


def test_unreachable_discovery_gives_500_unexpected_error() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache and https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow: discovery that cannot be loaded gives 500 with no WWW-Authenticate."""
    idp = FakeIdp(discovery_status=503)
    h = oidc_harness(idp)
    result, _ = h.send(idp.token())
    assert result is not None and result.status == 500
    assert result.body == {"message": "An unexpected error occurred"}
    assert "WWW-Authenticate" not in result.headers


def test_unreachable_discovery_gives_500_even_without_a_token() -> None:
    """https://developer.konghq.com/plugins/openid-connect/ and https://developer.konghq.com/plugins/openid-connect/#discovery-cache: discovery runs before the credential search."""
    h = oidc_harness(FakeIdp(discovery_status=500))
    result, _ = h.send(None)
    assert result is not None and result.status == 500


def test_display_errors_appends_the_discovery_failure_in_parentheses() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: with display_errors=true the detail is appended in parentheses."""
    h = oidc_harness(FakeIdp(discovery_status=500), display_errors=True)
    result, _ = h.send(None)
    assert result is not None
    assert result.body["message"].startswith("An unexpected error occurred (")


def test_a_failed_reload_keeps_the_cached_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: if rediscovery fails the plugin keeps using cached discovery data."""
    h = oidc_harness(cache_ttl=60)
    assert h.send(h.idp.token())[0] is None
    h.idp.discovery_status = 500
    h.runtime.clock.advance(61)
    assert h.send(h.idp.token({"exp": None}))[0] is None


def test_unknown_kid_triggers_one_rediscovery_and_accepts_the_rotated_key() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: an unknown kid makes the verifier rediscover and retry once."""
    h = oidc_harness()
    assert h.send(h.idp.token())[0] is None
    h.runtime.clock.advance(31)
    h.idp.rotate()
    result, _ = h.send(h.idp.token({"exp": None}))
    assert result is None
    assert h.idp.calls["discovery"] == 2


def test_rediscovery_is_throttled_by_rediscovery_lifetime() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: within 30 s of the last (re)discovery a new kid gives 401."""
    h = oidc_harness()
    assert h.send(h.idp.token())[0] is None
    h.runtime.clock.advance(29)
    h.idp.rotate()
    token = h.idp.token({"exp": None})
    result, _ = h.send(token)
    assert result is not None and result.status == 401
    assert h.idp.calls["discovery"] == 1
    h.runtime.clock.advance(1)
    assert h.send(token)[0] is None
    assert h.idp.calls["discovery"] == 2


def test_rediscovery_lifetime_is_configurable() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: rediscovery_lifetime sets the throttle."""
    h = oidc_harness(rediscovery_lifetime=5)
    h.send(h.idp.token())
    h.runtime.clock.advance(5)
    h.idp.rotate()
    assert h.send(h.idp.token({"exp": None}))[0] is None


def test_after_a_failed_rediscovery_the_wait_drops_to_5_seconds() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: FAILURE_REDISCOVERY_LIFETIME = 5 after a failed discovery."""
    h = oidc_harness()
    h.send(h.idp.token())
    h.runtime.clock.advance(31)
    h.idp.discovery_status = 500
    h.idp.rotate()
    token = h.idp.token({"exp": None})
    assert h.refusal(token).status == 401  # rediscovery attempted and failed
    h.idp.discovery_status = 200
    h.runtime.clock.advance(4)
    assert h.refusal(token).status == 401  # throttled (4 s < 5 s)
    h.runtime.clock.advance(1)
    assert h.send(token)[0] is None


def test_token_without_kid_uses_the_key_matching_its_alg() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: a token without kid/x5t gets its key chosen by alg."""
    idp = FakeIdp()
    idp.keys = [public_jwk(rsa_key(2), "other", "PS256"), public_jwk(rsa_key(1), "main", "RS256")]
    h = oidc_harness(idp)
    assert h.send(idp.token(kid=None))[0] is None


def test_jwks_endpoint_overrides_the_discovered_jwks_uri() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: 3.14 jwks_endpoint overrides the discovered jwks_uri."""
    idp = FakeIdp(extra_discovery={"jwks_uri": "http://idp.example.test:9443/auth/missing"})
    h = oidc_harness(idp, jwks_endpoint=ISSUER + "/.well-known/jwks")
    assert h.send(idp.token())[0] is None


def test_clear_caches_forces_a_new_discovery() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: the discovery cache can be cleared (Admin API / _emulator caches)."""
    h = oidc_harness()
    h.send(h.idp.token())
    h.plugin.clear_caches()
    h.send(h.idp.token())
    assert h.idp.calls["discovery"] == 2


def test_a_failed_reload_of_stale_discovery_is_retried_after_5_seconds() -> None:
    """https://developer.konghq.com/plugins/openid-connect/#discovery-cache: after a failed discovery the next attempt waits 5 s; cached data is used meanwhile."""
    h = oidc_harness(cache_ttl=60)
    h.send(h.idp.token())
    h.idp.discovery_status = 500
    h.runtime.clock.advance(61)
    h.send(h.idp.token({"exp": None}))
    assert h.idp.calls["discovery"] == 2
    h.runtime.clock.advance(4)
    h.send(h.idp.token({"exp": None}))
    assert h.idp.calls["discovery"] == 2
    h.runtime.clock.advance(1)
    h.send(h.idp.token({"exp": None}))
    assert h.idp.calls["discovery"] == 3
