"""Client of Kong Identity's management API (``/v1/auth-servers...``): Konnect or our emulator, same code.

Only what the suite needs to declare its profile and to drive issuer-side tests: auth servers, scopes,
claims, clients, client secrets, issued tokens and test-claim (https://developer.konghq.com/api/konnect/kong-identity/v1/). Errors raise
:class:`IdentityApiError` carrying the problem+json body; secrets never appear in its message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx

from kongformance.clients.polite import polite_client


class IdentityApiError(RuntimeError):
    """A management call answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        detail = body.get("detail") or body.get("title") if isinstance(body, dict) else str(body)[:200]
        super().__init__(f"{method} {path} -> {status}: {detail}")


def _body(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


class IdentityApi:
    """Kong Identity management API rooted at ``base_url`` (``.../v1``), authenticated by a bearer token."""

    def __init__(self, base_url: str, token: str, *, http: httpx.Client | None = None, timeout: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self.http = http or polite_client("identity", timeout=timeout)
        self._auth = {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ plumbing
    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        expect: Iterable[int] = (200, 201, 204),
    ) -> Any:
        """Send one request; return the decoded body (None for 204) or raise :class:`IdentityApiError`."""
        resp = self.raw(method, path, json=json, params=params)
        if resp.status_code not in tuple(expect):
            raise IdentityApiError(method, path, resp.status_code, _body(resp))
        return None if resp.status_code == 204 or not resp.content else _body(resp)

    def raw(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """Send one request and return the response as is (for tests of error answers)."""
        return self.http.request(method, self.base_url + path, json=json, params=params, headers=self._auth)

    def pages(self, path: str, *, params: Mapping[str, Any] | None = None, size: int = 100) -> Iterator[Any]:
        """Every item of a paginated list (``page[size]``/``page[number]``, https://developer.konghq.com/api/konnect/kong-identity/v1/)."""
        number = 1
        while True:
            q = {**(params or {}), "page[size]": size, "page[number]": number}
            doc = self.call("GET", path, params=q)
            data = doc.get("data", [])
            yield from data
            total = doc.get("meta", {}).get("page", {}).get("total")
            if not data or (total is not None and number * size >= int(total)):
                return
            number += 1

    # ------------------------------------------------------------------ auth servers
    def create_auth_server(
        self,
        name: str,
        audience: str,
        *,
        description: str = "",
        signing_algorithm: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "audience": audience, "description": description}
        if signing_algorithm:
            body["signing_algorithm"] = signing_algorithm
        if labels:
            body["labels"] = dict(labels)
        return dict(self.call("POST", "/auth-servers", json=body, expect=(201,)))

    def get_auth_server(self, server_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/auth-servers/{server_id}", expect=(200,)))

    def find_auth_servers(self, name: str) -> list[dict[str, Any]]:
        return [
            s for s in self.pages("/auth-servers", params={"filter[name][eq]": name}) if s["name"] == name
        ]

    def delete_auth_server(self, server_id: str, *, force: bool = True) -> None:
        self.call(
            "DELETE",
            f"/auth-servers/{server_id}",
            params={"force": "true" if force else "false"},
            expect=(204, 404),
        )

    # ------------------------------------------------------------------ scopes and claims
    def create_scope(
        self,
        server_id: str,
        name: str,
        *,
        description: str = "",
        default: bool = False,
        include_in_metadata: bool = False,
        enabled: bool = True,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "description": description or name,
            "default": default,
            "include_in_metadata": include_in_metadata,
            "enabled": enabled,
        }
        return dict(self.call("POST", f"/auth-servers/{server_id}/scopes", json=body, expect=(201,)))

    def create_claim(
        self,
        server_id: str,
        name: str,
        value: str,
        *,
        include_in_token: bool = True,
        include_in_all_scopes: bool = False,
        include_in_scopes: Iterable[str] = (),
        enabled: bool = True,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "value": value,
            "include_in_token": include_in_token,
            "include_in_all_scopes": include_in_all_scopes,
            "include_in_scopes": list(include_in_scopes),
            "enabled": enabled,
        }
        return dict(self.call("POST", f"/auth-servers/{server_id}/claims", json=body, expect=(201,)))

    def patch_claim(self, server_id: str, claim_id: str, **fields: Any) -> dict[str, Any]:
        return dict(
            self.call("PATCH", f"/auth-servers/{server_id}/claims/{claim_id}", json=fields, expect=(200,))
        )

    # ------------------------------------------------------------------ clients and secrets
    def create_client(
        self,
        server_id: str,
        name: str,
        *,
        grant_types: Iterable[str] = ("client_credentials",),
        response_types: Iterable[str] = ("token",),
        access_token_duration: int = 60,
        allow_all_scopes: bool = False,
        allow_scopes: Iterable[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a client; the answer holds the generated ``id`` and the only copy of ``client_secret``."""
        body: dict[str, Any] = {
            "name": name,
            "grant_types": list(grant_types),
            "response_types": list(response_types),
            "access_token_duration": access_token_duration,
            "allow_all_scopes": allow_all_scopes,
            "allow_scopes": list(allow_scopes),
        }
        if labels:
            body["labels"] = dict(labels)
        return dict(self.call("POST", f"/auth-servers/{server_id}/clients", json=body, expect=(201,)))

    def patch_client(self, server_id: str, client_id: str, **fields: Any) -> dict[str, Any]:
        return dict(
            self.call("PATCH", f"/auth-servers/{server_id}/clients/{client_id}", json=fields, expect=(200,))
        )

    def delete_client(self, server_id: str, client_id: str) -> None:
        self.call("DELETE", f"/auth-servers/{server_id}/clients/{client_id}", expect=(204, 404))

    def list_secrets(self, server_id: str, client_id: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/auth-servers/{server_id}/clients/{client_id}/secrets"))

    def create_secret(
        self, server_id: str, client_id: str, *, secret: str | None = None, enabled: bool = True
    ) -> httpx.Response:
        """Create a secret; returns the raw response (201 with ``secret``, or the refusal to check)."""
        body: dict[str, Any] = {"enabled": enabled}
        if secret is not None:
            body["secret"] = secret
        return self.raw("POST", f"/auth-servers/{server_id}/clients/{client_id}/secrets", json=body)

    def set_secret_enabled(
        self, server_id: str, client_id: str, secret_id: str, enabled: bool
    ) -> dict[str, Any]:
        path = f"/auth-servers/{server_id}/clients/{client_id}/secrets/{secret_id}"
        return dict(self.call("PATCH", path, json={"enabled": enabled}, expect=(200,)))

    def delete_secret(self, server_id: str, client_id: str, secret_id: str) -> None:
        self.call(
            "DELETE", f"/auth-servers/{server_id}/clients/{client_id}/secrets/{secret_id}", expect=(204,)
        )

    # ------------------------------------------------------------------ tokens and test-claim
    def list_tokens(self, server_id: str, client_id: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/auth-servers/{server_id}/clients/{client_id}/tokens"))

    def revoke_token(self, server_id: str, client_id: str, token_id: str) -> None:
        self.call("DELETE", f"/auth-servers/{server_id}/clients/{client_id}/tokens/{token_id}", expect=(204,))

    def revoke_all_tokens(self, server_id: str, client_id: str) -> None:
        self.call("DELETE", f"/auth-servers/{server_id}/clients/{client_id}/tokens", expect=(204,))

    def test_claim(self, server_id: str, client_id: str, templates: Mapping[str, str]) -> dict[str, Any]:
        path = f"/auth-servers/{server_id}/clients/{client_id}/test-claim"
        return dict(self.call("POST", path, json=dict(templates), expect=(200,)))
