"""Helpers for the issuer emulator's tests: an auth server under test and JWT decoding."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any

import httpx

from kongformance.identity.app import IdentityEmulator
from kongformance.identity.store import AuthServer, Client

_names = itertools.count(1)


@dataclass
class Issuer:
    """An auth server under test with handy URLs and a client that may use client_credentials."""

    emulator: IdentityEmulator
    server: AuthServer
    url: str
    http: httpx.Client
    client: Client
    secret: str

    def token(
        self,
        client_id: str | None = None,
        secret: str | None = None,
        *,
        scope: str | None = None,
        basic: bool = False,
        grant_type: str = "client_credentials",
    ) -> httpx.Response:
        """POST {issuer}/oauth/token with client_secret_post (default) or client_secret_basic."""
        cid, sec = client_id or self.client.id, secret if secret is not None else self.secret
        form = {"grant_type": grant_type}
        if scope is not None:
            form["scope"] = scope
        if basic:
            return self.http.post(f"{self.url}/oauth/token", data=form, auth=(cid, sec))
        return self.http.post(
            f"{self.url}/oauth/token", data={**form, "client_id": cid, "client_secret": sec}
        )

    def access_token(self, **kwargs: Any) -> str:
        response = self.token(**kwargs)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def introspect(
        self, token: str, client_id: str | None = None, secret: str | None = None
    ) -> httpx.Response:
        auth = (client_id or self.client.id, secret if secret is not None else self.secret)
        return self.http.post(f"{self.url}/introspect", data={"token": token}, auth=auth)

    def add_client(self, **fields: Any) -> tuple[Client, str]:
        return add_client(self.emulator, self.server, **fields)


def add_client(emulator: IdentityEmulator, server: AuthServer, **fields: Any) -> tuple[Client, str]:
    base: dict[str, Any] = {
        "name": f"client-{next(_names)}",
        "grant_types": ["client_credentials"],
        "response_types": ["token"],
    }
    base.update(fields)
    return emulator.store.create_client(server.id, base)


def decode_segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified."""
    header, payload, _ = token.split(".")
    return json.loads(_b64(header)), json.loads(_b64(payload))


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
