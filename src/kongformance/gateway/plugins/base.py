"""The contract between the reference gateway's proxy and its plugins.

A plugin mirrors a Kong plugin handler: a ``name``, a ``PRIORITY`` (higher runs earlier, Kong's numbers),
an ``access`` phase that may end the request (Kong's ``kong.response.exit``), and a ``header_filter`` phase
that sees the upstream's response. The proxy builds one plugin object per plugin entity and config; that
object may keep caches (JWKS, introspection results, upstream tokens) for its lifetime.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from kongformance.clock import Clock
    from kongformance.defects import DefectSwitches


class Headers:
    """A case-insensitive, multi-valued header list that keeps the original spelling and order."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = list(items or [])

    def get(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        for k, v in self._items:
            if k.lower() == low:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self._items if k.lower() == low]

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with ``value`` (Kong's ``set_header``)."""
        self.remove(name)
        self._items.append((name, value))

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))

    def remove(self, name: str) -> None:
        """Drop every value of ``name`` (Kong's ``clear_header``)."""
        low = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != low]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def copy(self) -> Headers:
        return Headers(self._items)


@dataclass
class ProxyRequest:
    """The downstream request as the plugins see it; plugins edit it before it goes upstream."""

    method: str
    scheme: str  # "http" or "https" as received by the proxy
    host: str
    port: int
    path: str  # the raw downstream path, before strip_path
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes
    client_ip: str

    def query_get(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def query_remove(self, name: str) -> None:
        self.query = [(k, v) for k, v in self.query if k != name]


@dataclass
class Exit:
    """An early response produced by the gateway itself (Kong's ``kong.response.exit``).

    A ``dict``/``list`` body is JSON-encoded with ``Content-Type: application/json; charset=utf-8``; a ``str``
    or ``bytes`` body is sent as-is with no Content-Type unless ``headers`` sets one.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, (dict, list)):
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            return json.dumps(self.body, separators=(",", ":")).encode(), headers
        if isinstance(self.body, str):
            return self.body.encode(), headers
        if isinstance(self.body, bytes):
            return self.body, headers
        return b"", headers


@dataclass
class UpstreamResponse:
    """What the upstream answered, as ``header_filter`` sees it (headers may be edited)."""

    status: int
    headers: Headers
    body: bytes


@dataclass
class RequestContext:
    """Per-request state shared by the plugins of one request (Kong's ``ngx.ctx``/``kong.ctx``)."""

    request: ProxyRequest
    route: Mapping[str, Any]
    service: Mapping[str, Any] | None
    consumer: Mapping[str, Any] | None = None
    credential: Mapping[str, Any] | None = None  # kong.client.get_credential()
    authenticated_groups: list[str] | None = None
    shared: dict[str, Any] = field(default_factory=dict)

    def authenticate(self, consumer: Mapping[str, Any] | None, credential: Mapping[str, Any] | None) -> None:
        """kong.client.authenticate(consumer, credential)."""
        self.consumer = consumer
        self.credential = credential


class GatewayRuntime(Protocol):
    """What a plugin may use from the gateway around it."""

    clock: Clock
    defects: DefectSwitches
    kong_version: tuple[int, int]  # (3, 9), (3, 14), ...

    @property
    def http(self) -> httpx.AsyncClient:
        """The client for calls to IdPs (TLS verification off: tests use self-signed issuers); read it per call."""

    def find_consumer(self, key: str) -> Mapping[str, Any] | None:
        """A consumer by id or username (Kong's anonymous lookup)."""

    def find_consumer_by(self, field_name: str, value: str) -> Mapping[str, Any] | None:
        """A consumer whose ``field_name`` (id, username, custom_id) equals ``value``."""

    def list_consumers(self) -> list[Mapping[str, Any]]:
        """Every consumer (openid-connect's ``by_username_ignore_case`` scans them)."""

    def find_credential(self, table: str, field_name: str, value: str) -> Mapping[str, Any] | None:
        """A credential of ``table`` (e.g. ``jwt_secrets``) whose ``field_name`` equals ``value``."""

    def oauth2_store(self) -> Any:
        """The OSS oauth2 plugin's credential and token tables (see plugins/oauth2.py)."""


class Plugin:
    """Base class of a reference-gateway plugin. Subclasses set ``name`` and ``PRIORITY``."""

    name: ClassVar[str] = ""
    PRIORITY: ClassVar[int] = 0

    def __init__(self, entity: Mapping[str, Any], runtime: GatewayRuntime) -> None:
        self.entity = entity
        self.config: Mapping[str, Any] = entity.get("config") or {}
        self.runtime = runtime

    async def access(self, ctx: RequestContext) -> Exit | None:
        """Run before proxying; return an :class:`Exit` to answer the client without calling the upstream."""
        return None

    async def header_filter(self, ctx: RequestContext, response: UpstreamResponse) -> None:
        """Run on the upstream's response before it is sent to the client."""
        return None
