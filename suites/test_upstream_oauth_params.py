"""upstream-oauth's token request carries only what its configuration sets: optional parameters left unset
(audience, username, password) are absent, not sent as empty values an IdP could reject or misread.

Source: Kong's upstream-oauth configuration reference
(https://developer.konghq.com/plugins/upstream-oauth/reference/: ``config.oauth`` audience, username, password
are optional and sent when set). The profile's upstream-oauth routes set client_credentials, scopes [read] and
token_headers only.
"""

from __future__ import annotations

import pytest
from fixtures.http import Proxy
from fixtures.issuer_control import IssuerControl
from fixtures.timing import ClockControl

from kongformance.profile import TOKEN_LIFETIME

EXPECTED_FORM = {
    "upstream-oauth-post": {"grant_type", "scope", "client_id", "client_secret"},
    "upstream-oauth-basic": {"grant_type", "scope"},
}


@pytest.mark.requirement("KONG-UPO-unset-params-absent", "KONG-UPO-2.3-token-request")
@pytest.mark.parametrize("variant", list(EXPECTED_FORM))
def test_the_token_request_carries_no_parameter_the_config_leaves_unset(
    proxy: Proxy, issuer_control: IssuerControl, clock: ClockControl, variant: str
) -> None:
    """The form has exactly the configured parameters (client_secret_post adds client_id/secret): no empty
    audience, username or password."""
    clock.advance(TOKEN_LIFETIME + 1)  # every cached upstream token has expired: the next request fetches one
    mark = issuer_control.mark("token")
    assert proxy.request(variant).status == 200
    (sent,) = issuer_control.token_calls(variant, since=mark)
    form = sent["form"]
    assert set(form) == EXPECTED_FORM[variant], f"token request form fields {sorted(form)}"
    assert all(value != "" for value in form.values())
