"""One Kong admin client for every gateway: Admin API CRUD, DB-less ``POST /config``, Konnect core entities.

The suite configures the reference gateway with exactly the calls it sends to real Kong. A decK-format
document (``_format_version: "3.0"``; services with nested routes and plugins, consumers with
``oauth2_credentials``, global plugins) is applied in one of three modes:

- ``crud``: ``POST /consumers``, ``/consumers/{c}/oauth2``, ``/services``, ``/services/{s}/routes``,
  ``/routes/{r}/plugins``, ``/plugins`` (https://developer.konghq.com/gateway/db-less-mode/); torn down by deleting what was created (and
  what carries the run's tag: :meth:`KongAdmin.remove_tagged`).
- ``dbless``: ``POST /config`` with the whole document (201); torn down by loading an empty config.
- ``konnect``: the same CRUD paths under ``/v2/control-planes/{id}/core-entities`` (https://developer.konghq.com/identity/auth-servers/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from kongformance.clients.polite import polite_client

AdminMode = Literal["crud", "dbless", "konnect"]
TAG = "kongformance"
CREDENTIALS = {"oauth2_credentials": "oauth2", "jwt_secrets": "jwt"}  # decK key -> Admin API sub-path


class KongAdminError(RuntimeError):
    """The Admin API refused a call; carries Kong's error body (``message``, ``fields``...)."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        msg = body.get("message") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{method} {path} -> {status}: {msg}")


@dataclass
class Applied:
    """What one ``apply`` created, in creation order, so teardown can delete it in reverse."""

    entities: list[tuple[str, str]] = field(default_factory=list)  # (collection path, id)


def service_fields(body: Any) -> Any:
    """A Service body with ``url`` split into ``protocol``/``host``/``port``/``path``: Konnect's Service schema
    requires ``host`` (control-planes-config-v2 ``Service.required``); Kong's Admin API takes either."""
    if not isinstance(body, Mapping) or "url" not in body or "host" in body:
        return body
    parts = urlsplit(str(body["url"]))
    out = {k: v for k, v in body.items() if k != "url"}
    out.update(protocol=parts.scheme, host=parts.hostname or "")
    out["port"] = parts.port or (443 if parts.scheme in ("https", "grpcs", "tls") else 80)
    if parts.path:
        out["path"] = parts.path
    return out


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


class KongAdmin:
    """Admin API of one gateway (or one Konnect control plane) at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        mode: AdminMode = "crud",
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mode: AdminMode = mode
        self.http = http or polite_client("admin", timeout=timeout, verify=False)
        self._headers = dict(headers or {})
        self._applied: Applied | None = None

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ plumbing
    def request(self, method: str, path: str, *, json: Any = None, params: Any = None) -> httpx.Response:
        """One raw Admin API request (tests of Kong's own error answers use this)."""
        if self.mode == "konnect" and method in ("POST", "PUT", "PATCH") and path.rstrip("/") == "/services":
            json = service_fields(json)
        return self.http.request(
            method, self.base_url + path, json=json, params=params, headers=self._headers
        )

    def call(
        self, method: str, path: str, *, json: Any = None, expect: Iterable[int] = (200, 201, 204)
    ) -> Any:
        resp = self.request(method, path, json=json)
        if resp.status_code not in tuple(expect):
            raise KongAdminError(method, path, resp.status_code, _json(resp))
        return None if resp.status_code == 204 or not resp.content else _json(resp)

    def info(self) -> dict[str, Any]:
        """``GET /``: version, plugins, configuration (database mode)."""
        return dict(self.call("GET", "/", expect=(200,)))

    def list_all(self, path: str, *, tags: str | None = None) -> list[dict[str, Any]]:
        """Every entity of a collection, following Kong's ``offset`` pagination."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"size": 1000}
        if tags:
            params["tags"] = tags
        while True:
            resp = self.request("GET", path, params=params)
            if resp.status_code != 200:
                raise KongAdminError("GET", path, resp.status_code, _json(resp))
            doc = resp.json()
            out.extend(doc.get("data", []))
            if not doc.get("offset"):
                return out
            params["offset"] = doc["offset"]

    # ------------------------------------------------------------------ declarative config
    def apply(self, config: Mapping[str, Any]) -> None:
        """Apply a decK-format document in this client's mode."""
        if self.mode == "dbless":
            self.call("POST", "/config", json=dict(config), expect=(200, 201))
            self._applied = Applied()
            return
        applied = Applied()
        self._applied = applied
        for consumer in config.get("consumers", []):
            body = {k: v for k, v in consumer.items() if k not in CREDENTIALS}
            created = self._create("/consumers", body, applied)
            for key, path in CREDENTIALS.items():
                for cred in consumer.get(key, []):
                    self._create(f"/consumers/{created['id']}/{path}", dict(cred), applied, record=False)
        for service in config.get("services", []):
            body = {k: v for k, v in service.items() if k not in ("routes", "plugins")}
            svc = self._create("/services", body, applied)
            for plugin in service.get("plugins", []):
                self._create(f"/services/{svc['id']}/plugins", dict(plugin), applied, collection="/plugins")
            for route in service.get("routes", []):
                rbody = {k: v for k, v in route.items() if k != "plugins"}
                rt = self._create(f"/services/{svc['id']}/routes", rbody, applied, collection="/routes")
                for plugin in route.get("plugins", []):
                    self._create(f"/routes/{rt['id']}/plugins", dict(plugin), applied, collection="/plugins")
        for plugin in config.get("plugins", []):
            self._create("/plugins", dict(plugin), applied)

    def _create(
        self,
        path: str,
        body: dict[str, Any],
        applied: Applied,
        *,
        collection: str | None = None,
        record: bool = True,
    ) -> dict[str, Any]:
        created = dict(self.call("POST", path, json=body, expect=(201,)))
        if record:
            applied.entities.append((collection or path, str(created["id"])))
        return created

    def teardown(self) -> None:
        """Remove what :meth:`apply` created (an empty config in DB-less mode)."""
        if self._applied is None:
            return
        if self.mode == "dbless":
            self.call("POST", "/config", json={"_format_version": "3.0"}, expect=(200, 201))
        else:
            for collection, eid in reversed(self._applied.entities):
                self.call("DELETE", f"{collection}/{eid}", expect=(204, 404))
        self._applied = None

    def remove_tagged(self, tag: str = TAG) -> int:
        """Delete every plugin, route, service and consumer tagged ``tag`` (a run's own tag: never the shared
        ``kongformance`` tag, which other live runs' entities carry too)."""
        removed = 0
        for collection in ("/plugins", "/routes", "/services", "/consumers"):
            for entity in self.list_all(collection, tags=tag):
                self.call("DELETE", f"{collection}/{entity['id']}", expect=(204, 404))
                removed += 1
        return removed
