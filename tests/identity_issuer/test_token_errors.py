"""Token endpoint client authentication and errors (RFC 6749 2.3.1, 5.2; https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow and https://developer.konghq.com/identity/auth-servers/)."""

from __future__ import annotations

import base64

import httpx
import pytest
from tests.identity_issuer.helpers import Issuer


def _error(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert isinstance(body.get("error_description"), str)
    return str(body["error"])


def test_client_secret_basic_is_accepted(issuer: Issuer) -> None:
    """https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow: client_secret_basic is advertised and works."""
    assert issuer.token(basic=True).status_code == 200


def test_basic_credentials_are_form_decoded(issuer: Issuer) -> None:
    """RFC 6749 2.3.1: id and secret are application/x-www-form-urlencoded before Basic encoding."""
    client, secret = issuer.add_client()
    issuer.emulator.store.create_secret(issuer.server.id, client.id, secret="a b:c%d")
    raw = base64.b64encode(f"{client.id}:a+b%3Ac%25d".encode()).decode()
    response = issuer.http.post(
        f"{issuer.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
    )
    assert response.status_code == 200, response.text


def test_wrong_secret_with_basic_is_401_with_www_authenticate(issuer: Issuer) -> None:
    """RFC 6749 5.2: invalid_client, 401 and WWW-Authenticate when the Authorization header was used."""
    response = issuer.token(secret="wrong", basic=True)
    assert response.status_code == 401
    assert _error(response) == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_wrong_secret_with_post_is_401_without_www_authenticate(issuer: Issuer) -> None:
    """RFC 6749 5.2: invalid_client 401; no Authorization header was used."""
    response = issuer.token(secret="wrong")
    assert response.status_code == 401
    assert _error(response) == "invalid_client"
    assert "www-authenticate" not in response.headers


def test_unknown_client_is_invalid_client(issuer: Issuer) -> None:
    """RFC 6749 5.2 invalid_client."""
    response = issuer.token(client_id="nosuchclient")
    assert response.status_code == 401
    assert _error(response) == "invalid_client"


def test_client_of_another_auth_server_is_invalid_client(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient: clients belong to one auth server."""
    other = issuer.emulator.store.create_server(name=f"other-{issuer.server.id}", audience="x")
    client, secret = issuer.emulator.store.create_client(
        other.id, {"name": "x", "grant_types": ["client_credentials"], "response_types": ["token"]}
    )
    assert issuer.token(client.id, secret).status_code == 401


def test_disabled_secret_does_not_authenticate(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret: a disabled secret cannot authenticate."""
    store = issuer.emulator.store
    item = store.secrets_of(issuer.server.id, issuer.client.id)[0]
    store.set_secret_enabled(issuer.server.id, issuer.client.id, item.id, False)
    response = issuer.token()
    assert response.status_code == 401
    assert _error(response) == "invalid_client"


def test_second_secret_authenticates_alongside_the_first(issuer: Issuer) -> None:
    """https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createClientSecret: two active secrets (rotation recipe S5)."""
    _, second = issuer.emulator.store.create_secret(issuer.server.id, issuer.client.id)
    assert issuer.token(secret=second).status_code == 200
    assert issuer.token().status_code == 200


def test_no_client_credentials_is_invalid_client(issuer: Issuer) -> None:
    """RFC 6749 5.2 invalid_client (client authentication failed)."""
    response = issuer.http.post(f"{issuer.url}/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert _error(response) == "invalid_client"


def test_missing_grant_type_is_invalid_request(issuer: Issuer) -> None:
    """RFC 6749 5.2 invalid_request: a required parameter is missing."""
    response = issuer.http.post(
        f"{issuer.url}/oauth/token", data={"client_id": issuer.client.id, "client_secret": issuer.secret}
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


def test_repeated_parameter_is_invalid_request(issuer: Issuer) -> None:
    """RFC 6749 3.2 / 5.2: parameters must not be included more than once."""
    body = f"grant_type=client_credentials&grant_type=client_credentials&client_id={issuer.client.id}&client_secret={issuer.secret}"
    response = issuer.http.post(
        f"{issuer.url}/oauth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


def test_json_body_is_invalid_request(issuer: Issuer) -> None:
    """RFC 6749 3.2: the token request is application/x-www-form-urlencoded."""
    response = issuer.http.post(
        f"{issuer.url}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": issuer.client.id,
            "client_secret": issuer.secret,
        },
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


def test_two_authentication_methods_is_invalid_request(issuer: Issuer) -> None:
    """RFC 6749 2.3: a client must not use more than one authentication method per request."""
    response = issuer.http.post(
        f"{issuer.url}/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": issuer.secret},
        auth=(issuer.client.id, issuer.secret),
    )
    assert response.status_code == 400
    assert _error(response) == "invalid_request"


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "refresh_token", "implicit"])
def test_other_grant_types_are_unsupported(issuer: Issuer, grant_type: str) -> None:
    """RFC 6749 5.2 unsupported_grant_type; https://developer.konghq.com/identity/auth-servers/#kong-identity-client-credential-authentication-flow (client_credentials only)."""
    response = issuer.token(grant_type=grant_type)
    assert response.status_code == 400
    assert _error(response) == "unsupported_grant_type"


def test_client_without_client_credentials_grant_is_unauthorized_client(issuer: Issuer) -> None:
    """RFC 6749 5.2 unauthorized_client; https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient grant_types."""
    client, secret = issuer.add_client(grant_types=["implicit"])
    response = issuer.token(client.id, secret)
    assert response.status_code == 400
    assert _error(response) == "unauthorized_client"


def test_invalid_scope_is_400(issuer: Issuer) -> None:
    """RFC 6749 5.2 invalid_scope; https://developer.konghq.com/api/konnect/kong-identity/v1/#/operations/createAuthServerClient (inferred)."""
    response = issuer.token(scope="nosuch")
    assert response.status_code == 400
    assert _error(response) == "invalid_scope"


def test_get_on_token_endpoint_is_405(issuer: Issuer) -> None:
    """RFC 6749 3.2: the client MUST use POST."""
    assert issuer.http.get(f"{issuer.url}/oauth/token").status_code == 405


def test_malformed_basic_header_is_invalid_client(issuer: Issuer) -> None:
    """RFC 6749 5.2 invalid_client for undecodable Basic credentials."""
    response = issuer.http.post(
        f"{issuer.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic %%%"},
    )
    assert response.status_code == 401
    assert _error(response) == "invalid_client"
