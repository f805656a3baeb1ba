"""Each issuer defect changes observable behaviour (src/kongformance/identity/defects.py; issue 3 item 6).

A scenario returns what a conformance test would look at; it must differ with the defect on and off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.identity_issuer.helpers import Issuer, decode_segments

from kongformance.identity.app import IdentityEmulator
from kongformance.identity.defects import ISSUER_DEFECTS


def _expired(issuer: Issuer) -> Any:
    issuer.emulator.clock.freeze()
    token = issuer.access_token()
    issuer.emulator.clock.advance(issuer.client.access_token_duration)
    return issuer.introspect(token).json()["active"]


def _revoked(issuer: Issuer) -> Any:
    token = issuer.access_token()
    issuer.emulator.store.revoke_token(decode_segments(token)[1]["jti"])
    return issuer.introspect(token).json()["active"]


def _foreign(issuer: Issuer) -> Any:
    store = issuer.emulator.store
    other = store.create_server(name=f"o-{len(store.list_servers())}-{issuer.server.id}", audience="x")
    client, secret = store.create_client(
        other.id, {"name": "o", "grant_types": ["client_credentials"], "response_types": ["token"]}
    )
    token = issuer.http.post(
        f"{issuer.emulator.issuer_url_for(other)}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.id, "client_secret": secret},
    ).json()["access_token"]
    return issuer.introspect(token).json()["active"]


def _custom_claims(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id, name="c", value="v", include_in_token=True, include_in_all_scopes=True
    )
    return issuer.introspect(issuer.access_token()).json().get("c")


def _wrong_secret(issuer: Issuer) -> Any:
    return issuer.token(secret="wrong").status_code


def _disabled_secret(issuer: Issuer) -> Any:
    store = issuer.emulator.store
    client, secret = issuer.add_client()
    item = store.secrets_of(issuer.server.id, client.id)[0]
    store.set_secret_enabled(issuer.server.id, client.id, item.id, False)
    return issuer.token(client.id, secret).status_code


def _invalid_client_status(issuer: Issuer) -> Any:
    response = issuer.token(secret="wrong", basic=True)
    return response.status_code, response.headers.get("www-authenticate")


def _aud(issuer: Issuer) -> Any:
    return decode_segments(issuer.access_token())[1]["aud"]


def _exp(issuer: Issuer) -> Any:
    claims = decode_segments(issuer.access_token())[1]
    return claims["exp"] - claims["iat"]


def _disallowed_scope(issuer: Issuer) -> Any:
    issuer.emulator.store.create_scope(issuer.server.id, name="admin")
    return issuer.token(scope="admin").status_code


def _default_scope(issuer: Issuer) -> Any:
    scope = issuer.emulator.store.create_scope(issuer.server.id, name="basic", default=True)
    client, secret = issuer.add_client(allow_scopes=[scope.id])
    return decode_segments(issuer.access_token(client_id=client.id, secret=secret))[1]["scope"]


def _scope_claims(issuer: Issuer) -> Any:
    store = issuer.emulator.store
    scope = store.create_scope(issuer.server.id, name="read")
    store.create_claim(
        issuer.server.id, name="r", value="1", include_in_token=True, include_in_scopes=[scope.id]
    )
    return "r" in decode_segments(issuer.access_token())[1]


def _failed_template(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id,
        name="env",
        value="${ .Client.Labels.env }",
        include_in_token=True,
        include_in_all_scopes=True,
    )
    return decode_segments(issuer.access_token())[1].get("env", "<absent>")


def _jwks_kid(issuer: Issuer) -> Any:
    kids = [k["kid"] for k in issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"]]
    return decode_segments(issuer.access_token())[0]["kid"] in kids


def _jwks_previous(issuer: Issuer) -> Any:
    issuer.emulator.keys.rotate(issuer.server.id)
    return len(issuer.http.get(f"{issuer.url}/.well-known/jwks").json()["keys"])


def _revoke(issuer: Issuer) -> Any:
    token = issuer.access_token()
    issuer.http.post(f"{issuer.url}/revoke", data={"token": token}, auth=(issuer.client.id, issuer.secret))
    return issuer.introspect(token).json()["active"]


def _case_mapping(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id,
        name="up",
        value='${ upper "straße ﬁ" }',
        include_in_token=True,
        include_in_all_scopes=True,
    )
    return decode_segments(issuer.access_token())[1].get("up")


def _revoke_other(issuer: Issuer) -> Any:
    store = issuer.emulator.store
    other, other_secret = store.create_client(
        issuer.server.id,
        {"name": "other", "grant_types": ["client_credentials"], "response_types": ["token"]},
    )
    token = issuer.access_token()
    issuer.http.post(f"{issuer.url}/revoke", data={"token": token}, auth=(other.id, other_secret))
    return issuer.introspect(token).json()["active"]


def _audience(issuer: Issuer) -> Any:
    return decode_segments(issuer.access_token())[1]["aud"]


def _duration(issuer: Issuer) -> Any:
    claims = decode_segments(issuer.access_token())[1]
    return claims["exp"] - claims["iat"]


def _allow_all(issuer: Issuer) -> Any:
    issuer.emulator.store.create_scope(issuer.server.id, name="wide")
    client, secret = issuer.add_client(allow_all_scopes=True)
    return issuer.token(client.id, secret, scope="wide").status_code


def _disabled_scope(issuer: Issuer) -> Any:
    scope = issuer.emulator.store.create_scope(issuer.server.id, name="off", enabled=False)
    client, secret = issuer.add_client(allow_scopes=[scope.id])
    return issuer.token(client.id, secret, scope="off").status_code


def _never_claim(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(issuer.server.id, name="nv", value="x", include_in_token=False)
    return "nv" in decode_segments(issuer.access_token())[1]


def _no_scope_claim(issuer: Issuer) -> Any:
    store = issuer.emulator.store
    scope = store.create_scope(issuer.server.id, name="s1")
    store.create_claim(issuer.server.id, name="ns", value="x", include_in_token=True)
    client, secret = issuer.add_client(allow_scopes=[scope.id])
    return "ns" in decode_segments(issuer.access_token(client_id=client.id, secret=secret, scope="s1"))[1]


def _disabled_claim(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id,
        name="dc",
        value="x",
        include_in_token=True,
        include_in_all_scopes=True,
        enabled=False,
    )
    return "dc" in decode_segments(issuer.access_token())[1]


def _metadata(issuer: Issuer) -> Any:
    issuer.emulator.store.create_scope(issuer.server.id, name="hidden")
    return issuer.http.get(f"{issuer.url}/.well-known/openid-configuration").json()["scopes_supported"]


def _template(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id,
        name="tn",
        value="${ .Client.ID }",
        include_in_token=True,
        include_in_all_scopes=True,
    )
    return decode_segments(issuer.access_token())[1].get("tn")


def _labels(issuer: Issuer) -> Any:
    issuer.emulator.store.create_claim(
        issuer.server.id,
        name="tier",
        value="${ .Client.Labels.tier }",
        include_in_token=True,
        include_in_all_scopes=True,
    )
    client, secret = issuer.add_client(labels={"tier": "gold"})
    return decode_segments(issuer.access_token(client_id=client.id, secret=secret))[1].get("tier")


SCENARIOS: dict[str, Callable[[Issuer], Any]] = {
    "introspect_expired_active": _expired,
    "introspect_revoked_active": _revoked,
    "introspect_foreign_active": _foreign,
    "introspect_omits_custom_claims": _custom_claims,
    "accept_wrong_secret": _wrong_secret,
    "accept_disabled_secret": _disabled_secret,
    "invalid_client_400": _invalid_client_status,
    "aud_as_string": _aud,
    "exp_ignores_duration": _exp,
    "grant_disallowed_scope": _disallowed_scope,
    "drop_default_scopes": _default_scope,
    "scope_claims_always": _scope_claims,
    "failed_template_renders_empty": _failed_template,
    "jwks_wrong_kid": _jwks_kid,
    "jwks_drops_previous_key": _jwks_previous,
    "revoke_noop": _revoke,
    "template_case_mapping_full_unicode": _case_mapping,
    "revoke_other_clients_token": _revoke_other,
    "option_identity_audience_replaced_by_issuer": _audience,
    "option_identity_access_token_duration_doubled": _duration,
    "option_identity_allow_all_scopes_ignored": _allow_all,
    "option_identity_disabled_scope_granted": _disabled_scope,
    "option_identity_never_claim_in_token": _never_claim,
    "option_identity_no_scope_claim_always": _no_scope_claim,
    "option_identity_disabled_claim_in_token": _disabled_claim,
    "option_identity_include_in_metadata_ignored": _metadata,
    "option_identity_claim_template_unrendered": _template,
    "option_identity_client_labels_ignored": _labels,
}


def test_the_catalogue_has_at_least_ten_documented_issuer_defects() -> None:
    """Issue 3 item 6: at least 10 issuer defects, each documented."""
    assert len(ISSUER_DEFECTS) >= 10
    assert set(SCENARIOS) == set(ISSUER_DEFECTS)
    for defect in ISSUER_DEFECTS.values():
        assert defect.component == "issuer" and defect.summary and defect.departs_from


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_defect_changes_behaviour(name: str, issuer: Issuer, emulator: IdentityEmulator) -> None:
    """Each defect is a real departure: the observable differs from the correct behaviour."""
    scenario = SCENARIOS[name]
    correct = scenario(issuer)
    emulator.clock.reset()
    emulator.defects.enable(name)
    fresh = Issuer(emulator, issuer.server, issuer.url, issuer.http, issuer.client, issuer.secret)
    broken = scenario(_fresh_server(fresh))
    assert broken != correct, f"{name}: {correct!r} == {broken!r}"


def _fresh_server(issuer: Issuer) -> Issuer:
    """The same emulator, a new auth server and client (scenarios create objects with fixed names)."""
    store = issuer.emulator.store
    server = store.create_server(
        name=f"defect-{len(store.list_servers())}-{issuer.server.id}", audience="https://api.example.test"
    )
    client, secret = store.create_client(
        server.id, {"name": "c", "grant_types": ["client_credentials"], "response_types": ["token"]}
    )
    return Issuer(
        issuer.emulator, server, issuer.emulator.issuer_url_for(server), issuer.http, client, secret
    )
