"""Client of one issuer URL: discovery, JWKS, the token endpoint, introspection and revocation.

The same code talks to Kong Identity and to our emulator. Responses are returned whole
(:class:`IssuerResponse`) because conformance tests assert on status, headers and body alike.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from kongformance.clients.polite import polite_client

ClientAuth = Literal["post", "basic", "none"]


@dataclass(frozen=True)
class IssuerResponse:
    """One issuer answer: status, headers and the JSON body (None when it is not JSON)."""

    status: int
    headers: httpx.Headers
    body: Any
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def access_token(self) -> str:
        """The ``access_token`` of a successful token response (raises a clear error otherwise)."""
        if not self.ok or not isinstance(self.body, dict) or "access_token" not in self.body:
            raise AssertionError(f"no access token: status {self.status}, error {self.error!r}")
        return str(self.body["access_token"])

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


def basic_auth(client_id: str, secret: str) -> str:
    """``Basic base64(id:secret)`` as RFC 6749 2.3.1 builds it (form-encoding first)."""
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _wrap(resp: httpx.Response) -> IssuerResponse:
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    return IssuerResponse(resp.status_code, resp.headers, body, resp.text)


class IssuerClient:
    """Endpoints of the issuer at ``issuer_url`` (discovery tells where the others are)."""

    def __init__(self, issuer_url: str, *, http: httpx.Client | None = None, timeout: float = 15.0) -> None:
        self.issuer_url = issuer_url.rstrip("/")
        self.http = http or polite_client("issuer", timeout=timeout, verify=False, paced=True)
        self._discovery: dict[str, Any] | None = None

    def close(self) -> None:
        self.http.close()

    def discovery(self, *, fresh: bool = False) -> dict[str, Any]:
        if self._discovery is None or fresh:
            resp = self.http.get(self.issuer_url + "/.well-known/openid-configuration")
            resp.raise_for_status()
            self._discovery = dict(resp.json())
        return self._discovery

    def endpoint(self, name: str, fallback: str) -> str:
        """The discovered endpoint ``name`` (e.g. ``token_endpoint``), else ``issuer + fallback``."""
        try:
            return str(self.discovery().get(name) or self.issuer_url + fallback)
        except httpx.HTTPError:
            return self.issuer_url + fallback

    def jwks(self) -> dict[str, Any]:
        resp = self.http.get(self.endpoint("jwks_uri", "/.well-known/jwks"))
        resp.raise_for_status()
        return dict(resp.json())

    def token(
        self,
        client_id: str,
        secret: str | None,
        *,
        scope: str | None = None,
        auth: ClientAuth = "post",
        grant_type: str | None = "client_credentials",
        extra: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> IssuerResponse:
        """POST the token endpoint with the client authenticated as ``auth`` (RFC 6749 2.3.1)."""
        form: dict[str, str] = {}
        if grant_type is not None:
            form["grant_type"] = grant_type
        if scope is not None:
            form["scope"] = scope
        hdrs = dict(headers or {})
        if auth == "post":
            form["client_id"] = client_id
            if secret is not None:
                form["client_secret"] = secret
        elif auth == "basic":
            hdrs["Authorization"] = basic_auth(client_id, secret or "")
        else:
            form["client_id"] = client_id
        form.update(extra or {})
        url = self.endpoint("token_endpoint", "/oauth/token")
        return _wrap(self.http.post(url, data=form, headers=hdrs))

    def introspect(
        self, token: str, client_id: str, secret: str, *, token_type_hint: str | None = None
    ) -> IssuerResponse:
        """RFC 7662 2.1 introspection with HTTP Basic client authentication."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        url = self.endpoint("introspection_endpoint", "/introspect")
        return _wrap(self.http.post(url, data=form, headers={"Authorization": basic_auth(client_id, secret)}))

    def revoke(
        self, token: str, client_id: str, secret: str, *, token_type_hint: str | None = None
    ) -> IssuerResponse:
        """RFC 7009 revocation with HTTP Basic client authentication."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        url = self.endpoint("revocation_endpoint", "/revoke")
        return _wrap(self.http.post(url, data=form, headers={"Authorization": basic_auth(client_id, secret)}))
