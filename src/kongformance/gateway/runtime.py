"""The reference gateway's runtime: what plugins see (:class:`GatewayRuntime`), and the proxy's view of the
config, compiled once per change (route table, plugin objects, per-route plugin chains).

Plugin objects are built per plugin entity and rebuilt only when that entity changes, so their caches
(JWKS, discovery, tokens) live as long as the entity. HTTP clients are kept one per event loop, because the
HTTP and HTTPS listeners may each run their own loop.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.gateway import plugins as registry
from kongformance.gateway.defects import (
    LEGACY_PLUGIN_DEFAULTS,
    PLUGIN_PRECEDENCE_REVERSED,
    PLUGINS_RUN_IN_REVERSE_PRIORITY,
    ROUTE_PROTOCOLS_DEFAULT_IGNORED,
)
from kongformance.gateway.plugins import oauth2_cache, oidc_discovery
from kongformance.gateway.plugins.base import GatewayRuntime, Plugin
from kongformance.gateway.plugins.oauth2_store import Oauth2Store
from kongformance.gateway.router import Router
from kongformance.gateway.schemas import LEGACY_DEFAULTS
from kongformance.gateway.store import EntityStore
from kongformance.serving import at_loop_shutdown

log = logging.getLogger(__name__)

Entity = dict[str, Any]


class DbLessWriteError(RuntimeError):
    """A write Kong refuses without a database (the OSS oauth2 plugin issuing a token in DB-less mode)."""


class _DbLessOauth2Store:
    """Kong's ``oauth2_tokens`` DAO in DB-less mode: no rows, and inserting one fails (issue Kong/kong#6179)."""

    def __init__(self, inner: Oauth2Store) -> None:
        self._inner = inner

    def credential(self, client_id: str) -> Mapping[str, Any] | None:
        return self._inner.credential(client_id)

    def issue(self, *args: Any, **kwargs: Any) -> Any:
        raise DbLessWriteError("[off] cannot create 'oauth2_tokens' entities when not using a database")

    def find(self, access_token: str) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class Snapshot:
    """The proxy's immutable view of one config generation."""

    generation: int
    router: Router
    plugins: dict[str, Plugin]  # plugin id -> plugin object (enabled ones)
    entities: dict[str, Entity]  # plugin id -> entity
    chains: dict[tuple[Any, ...], list[Plugin]] = field(default_factory=dict)


class Runtime:
    """Implements :class:`kongformance.gateway.plugins.base.GatewayRuntime` for one gateway node."""

    def __init__(
        self,
        clock: Clock,
        defects: DefectSwitches,
        kong_version: tuple[int, int],
        *,
        db_less: bool = False,
        trusted_ips: Iterable[str] = (),
    ) -> None:
        self.clock = clock
        self.defects = defects
        self.kong_version = kong_version
        self.db_less = db_less
        self.trusted_ips: list[str] = list(trusted_ips)
        self._trusted = [ipaddress.ip_network(n, strict=False) for n in self.trusted_ips]
        self.store = EntityStore(clock, kong_version, defects)
        self._clients: dict[int, tuple[Any, httpx.AsyncClient, httpx.AsyncClient]] = {}
        self._clients_lock = threading.Lock()
        self._instances: dict[str, tuple[Entity, Plugin]] = {}
        self._oauth2: Any = None
        self._build_lock = threading.Lock()
        self.snapshot = self._build()
        self.store.listeners.append(self.rebuild)

    # --- GatewayRuntime ----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The client for IdP calls (TLS verification off), one per running event loop."""
        return self._clients_for_loop()[1]

    @property
    def upstream(self) -> httpx.AsyncClient:
        """The keep-alive client the proxy uses to call upstream services, one per running event loop."""
        return self._clients_for_loop()[2]

    def find_consumer(self, key: str) -> Mapping[str, Any] | None:
        """A consumer by id or username (Kong's anonymous lookup)."""
        rows = self.store.tables["consumers"]
        found = rows.get(key)
        if found is not None:
            return found
        return next((c for c in rows.values() if c.get("username") == key), None)

    def find_consumer_by(self, field_name: str, value: str) -> Mapping[str, Any] | None:
        """A consumer whose ``field_name`` (id, username, custom_id) equals ``value``."""
        return next((c for c in self.store.tables["consumers"].values() if c.get(field_name) == value), None)

    def is_trusted(self, ip: str) -> bool:
        """Whether ``ip`` is in Kong's ``trusted_ips`` (empty by default: nobody is trusted)."""
        if not self._trusted:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self._trusted if net.version == addr.version)

    def list_consumers(self) -> list[Mapping[str, Any]]:
        """Every consumer (for lookups Kong does case-insensitively, e.g. OIDC ``by_username_ignore_case``)."""
        return list(self.store.tables["consumers"].values())

    def find_credential(self, table: str, field_name: str, value: str) -> Mapping[str, Any] | None:
        """A consumer credential (``oauth2_credentials``, ``jwt_secrets``) whose ``field_name`` equals ``value``."""
        return next((c for c in self.store.tables[table].values() if c.get(field_name) == value), None)

    def oauth2_store(self) -> Any:
        """The OSS oauth2 plugin's token table (plugins/oauth2_store.py); writes fail in DB-less mode."""
        if self._oauth2 is None:
            store = Oauth2Store(
                self.clock,
                lambda cid: self.find_credential("oauth2_credentials", "client_id", cid),
                lambda sid: sid in self.store.tables["services"],
            )
            self._oauth2 = _DbLessOauth2Store(store) if self.db_less else store
        return self._oauth2

    # --- config snapshots --------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Recompile the route table and plugin objects after a config change."""
        self.snapshot = self._build()

    def drop_caches(self) -> None:
        """Forget every plugin cache: node-level caches and per-plugin caches (plugin objects are rebuilt)."""
        oauth2_cache.drop_caches(self)
        oidc_discovery.drop_discovery(self)  # also issuers no live plugin names any more
        with self._build_lock:
            for _, plugin in self._instances.values():
                clear = getattr(plugin, "clear_caches", None)
                if callable(clear):
                    clear()
            self._instances.clear()
        self.rebuild()

    def _build(self) -> Snapshot:
        with self._build_lock:
            tables = self.store.tables
            legacy_routes = self.defects.on(ROUTE_PROTOCOLS_DEFAULT_IGNORED)
            legacy_plugins = self.defects.on(LEGACY_PLUGIN_DEFAULTS)
            routes = [self._effective_route(r, legacy_routes) for r in tables["routes"].values()]
            router = Router(routes, tables["services"])
            plugins: dict[str, Plugin] = {}
            entities: dict[str, Entity] = {}
            classes = registry.registry()
            fresh: dict[str, tuple[Entity, Plugin]] = {}
            for pid, stored in tables["plugins"].items():
                if not stored.get("enabled", True):
                    continue
                cls = classes.get(stored["name"])
                if cls is None:
                    continue
                entity = self._effective_plugin(stored, legacy_plugins)
                cached = self._instances.get(pid)
                same = cached is not None and _content(cached[0]) == _content(entity)
                plugin = cached[1] if cached is not None and same else cls(entity, cast(GatewayRuntime, self))
                fresh[pid] = (entity, plugin)
                plugins[pid] = plugin
                entities[pid] = entity
            self._instances = fresh
            return Snapshot(self.store.generation, router, plugins, entities)

    def _effective_route(self, route: Entity, legacy: bool) -> Entity:
        """The route as the proxy uses it; with the defect on, a defaulted ``protocols`` reverts to http+https."""
        if legacy and (self.store.given.get(route["id"]) or {}).get("protocols") is None:
            return {**route, "protocols": ["http", "https"]}
        return route

    def _effective_plugin(self, entity: Entity, legacy: bool) -> Entity:
        """The plugin entity a plugin object gets; with the defect on, 3.14 defaults revert where not set."""
        changed = LEGACY_DEFAULTS.get(entity["name"]) if legacy else None
        if not changed:
            return entity
        given = (self.store.given.get(entity["id"]) or {}).get("config") or {}
        config = copy.deepcopy(dict(entity.get("config") or {}))
        for path, value in changed.items():
            node_given: Any = given
            node: Any = config
            for part in path[:-1]:
                node_given = node_given.get(part) if isinstance(node_given, Mapping) else None
                node = node.setdefault(part, {}) if isinstance(node, dict) else {}
            explicit = isinstance(node_given, Mapping) and node_given.get(path[-1]) is not None
            if not explicit and isinstance(node, dict):
                node[path[-1]] = value
        return {**entity, "config": config}

    def chain(
        self, snapshot: Snapshot, route: Mapping[str, Any], service: Mapping[str, Any] | None, scheme: str
    ) -> list[Plugin]:
        """The plugins of a request, most specific entity per plugin name, in Kong's priority order."""
        reversed_precedence = self.defects.on(PLUGIN_PRECEDENCE_REVERSED)
        ascending = self.defects.on(PLUGINS_RUN_IN_REVERSE_PRIORITY)
        route_id = route["id"]
        service_id = service["id"] if service else None
        key = (route_id, service_id, scheme, reversed_precedence, ascending)
        found = snapshot.chains.get(key)
        if found is not None:
            return found
        best: dict[str, tuple[int, Plugin]] = {}
        for pid, entity in snapshot.entities.items():
            if entity.get("consumer"):
                continue  # consumer-scoped plugins are not supported by the reference gateway
            if scheme not in (entity.get("protocols") or ["http", "https"]):
                continue
            r = (entity.get("route") or {}).get("id")
            s = (entity.get("service") or {}).get("id")
            if r is not None and r != route_id:
                continue
            if s is not None and s != service_id:
                continue
            rank = (2 if r else 0) + (1 if s else 0)  # route+service > route > service > global
            if reversed_precedence:
                rank = -rank
            current = best.get(entity["name"])
            if current is None or rank > current[0]:
                best[entity["name"]] = (rank, snapshot.plugins[pid])
        ordered = sorted(
            (p for _, p in best.values()), key=lambda p: (p.PRIORITY, p.name), reverse=not ascending
        )
        snapshot.chains[key] = ordered
        return ordered

    # --- clients -----------------------------------------------------------------------------------

    def _clients_for_loop(self) -> tuple[Any, httpx.AsyncClient, httpx.AsyncClient]:
        try:
            loop: Any = asyncio.get_running_loop()
        except RuntimeError:  # outside a loop (a plugin's constructor): a client for the next loop to use it
            loop = None
        entry = self._clients.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry
        with self._clients_lock:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=30)
            idp = httpx.AsyncClient(verify=False, timeout=10.0, trust_env=False)
            upstream = httpx.AsyncClient(verify=False, limits=limits, follow_redirects=False, trust_env=False)
            entry = (loop, idp, upstream)
            self._clients[id(loop)] = entry
        if loop is not None:
            at_loop_shutdown(self.aclose)  # closed on this loop when its server stops
        return entry

    async def aclose(self) -> None:
        """Close the clients of the running loop (others close with their loop)."""
        entry = self._clients.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()
            await entry[2].aclose()


def _content(entity: Mapping[str, Any]) -> dict[str, Any]:
    """A plugin entity without its timestamps: a reload that changes nothing keeps the plugin object."""
    return {k: v for k, v in entity.items() if k not in ("created_at", "updated_at")}
