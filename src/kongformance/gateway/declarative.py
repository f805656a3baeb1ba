"""DB-less declarative configuration (decK format, ``_format_version: "3.0"``): ``POST /config`` loads a
whole config atomically, ``GET /config`` exports it. Nested entities (routes and plugins under services,
plugins under routes, plugins and credentials under consumers) and top-level ones with references by
name or id are accepted; errors come back in Kong's declarative error shape, mirroring the input's nesting.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from kongformance.gateway.entities import is_uuid
from kongformance.gateway.schemas import KongError, lua_pretty
from kongformance.gateway.store import EntityStore

if TYPE_CHECKING:  # pragma: no cover
    from kongformance.gateway.runtime import Runtime

FORMAT_VERSIONS = ("1.1", "2.1", "3.0")
TOP_KEYS = ("services", "routes", "consumers", "plugins", "oauth2_credentials", "jwt_secrets")
# nested key -> (child table, foreign-key field set from the parent)
_NESTED = {
    "services": {"routes": ("routes", "service"), "plugins": ("plugins", "service")},
    "routes": {"plugins": ("plugins", "route")},
    "consumers": {
        "plugins": ("plugins", "consumer"),
        "oauth2_credentials": ("oauth2_credentials", "consumer"),
        "jwt_secrets": ("jwt_secrets", "consumer"),
    },
}
_ENTITY_TYPE = {
    "services": "service",
    "routes": "route",
    "consumers": "consumer",
    "plugins": "plugin",
    "oauth2_credentials": "oauth2_credential",
    "jwt_secrets": "jwt_secret",
}
_NAMESPACE = uuid.UUID("6f1c1b0a-5f3e-4c59-9a43-8d7e3c2b1a00")


def _parse(raw: bytes) -> Any:
    text = raw.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def _declarative_error(fields: Mapping[str, Any], flattened: list[dict[str, Any]] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": 14,
        "name": "invalid declarative configuration",
        "message": f"declarative config is invalid: {lua_pretty(fields)}",
        "fields": dict(fields),
    }
    if flattened is not None:
        body["flattened_errors"] = flattened
    return body


class _Loader:
    """Builds a fresh entity store from one declarative document, collecting errors by input position."""

    def __init__(self, runtime: Runtime) -> None:
        self.store = EntityStore(runtime.clock, runtime.kong_version, runtime.defects)
        self.errors: dict[str, Any] = {}
        self.flattened: list[dict[str, Any]] = []
        self.deferred: list[tuple[str, dict[str, Any], tuple[str, str] | None, list[Any]]] = []

    def _record(self, path: list[Any], table: str, body: Any, err: KongError) -> None:
        fields = err.body.get("fields") or {"@entity": [err.body.get("message")]}
        node: Any = self.errors
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(part, int):
                while len(node) <= part:
                    node.append(None)
                if last:
                    node[part] = fields
                else:
                    if node[part] is None:
                        node[part] = {}
                    node = node[part]
            else:
                if last:
                    node[part] = fields
                else:
                    nxt_is_list = isinstance(path[i + 1], int)
                    node = node.setdefault(part, [] if nxt_is_list else {})
        entity = body if isinstance(body, Mapping) else {}
        self.flattened.append(
            {
                "entity_type": _ENTITY_TYPE.get(table, table),
                "entity_name": entity.get("name") or entity.get("username"),
                "entity_id": entity.get("id"),
                "entity_tags": entity.get("tags"),
                "entity": dict(entity),
                "errors": [
                    {"field": k, "message": v if isinstance(v, str) else lua_pretty(v), "type": "field"}
                    for k, v in fields.items()
                    if k != "@entity"
                ]
                + [
                    {"message": m, "type": "entity"}
                    for m in fields.get("@entity", [])
                    if isinstance(fields.get("@entity"), list)
                ],
            }
        )

    def add(self, table: str, body: Any, parent: tuple[str, str] | None, path: list[Any]) -> None:
        if not isinstance(body, Mapping):
            self._record(path, table, body, KongError(400, {"fields": {"@entity": ["expected a record"]}}))
            return
        data = dict(body)
        children = {k: data.pop(k) for k in list(data) if k in _NESTED.get(table, {})}
        for fk in ("service", "route", "consumer"):
            ref = data.get(fk)
            if isinstance(ref, str):
                data[fk] = {"id": ref} if is_uuid(ref) else {"username" if fk == "consumer" else "name": ref}
        if "id" not in data:
            key = (
                data.get("name")
                or data.get("username")
                or data.get("client_id")
                or data.get("key")
                or json.dumps([path, data.get("name")], default=str)
            )
            data["id"] = str(uuid.uuid5(_NAMESPACE, f"{table}:{parent}:{key}"))
        try:
            created = self.store.create(table, data, parent)
        except KongError as err:
            self._record(path, table, data, err)
            return
        for key, items in children.items():
            child_table, fk = _NESTED[table][key]
            if not isinstance(items, list):
                self._record(
                    [*path, key],
                    child_table,
                    items,
                    KongError(400, {"fields": {"@entity": ["expected an array"]}}),
                )
                continue
            for i, item in enumerate(items):
                entry = (child_table, item, (fk, created["id"]), [*path, key, i])
                if child_table == "plugins":
                    self.deferred.append(entry)
                else:
                    self.add(*entry)


def digest(raw: bytes) -> str:
    """The configuration hash of a declarative body (Kong's ``configuration_hash``: an MD5 hex digest)."""
    try:
        canonical = json.dumps(_parse(raw), sort_keys=True, default=str).encode()
    except (ValueError, yaml.YAMLError, UnicodeDecodeError):
        canonical = raw
    return hashlib.md5(canonical, usedforsecurity=False).hexdigest()


def load(runtime: Runtime, raw: bytes, *, flatten_errors: bool = False) -> tuple[int, dict[str, Any]]:
    """Parse and load a declarative config, replacing the whole config on success: (status, body)."""
    if not raw.strip():
        return 400, {"message": "expected a declarative configuration"}
    try:
        doc = _parse(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return 400, _declarative_error({"error": f"failed parsing declarative configuration: {exc}"}, None)
    if doc is None:
        return 400, {"message": "expected a declarative configuration"}
    if not isinstance(doc, Mapping):
        return 400, _declarative_error({"error": "expected an object"}, None)
    top_errors: dict[str, Any] = {}
    version = doc.get("_format_version")
    if version is None:
        top_errors["_format_version"] = "required field missing"
    elif str(version) not in FORMAT_VERSIONS:
        top_errors["_format_version"] = "expected one of: " + ", ".join(FORMAT_VERSIONS)
    for key in doc:
        if key not in TOP_KEYS and key not in (
            "_format_version",
            "_transform",
            "_comment",
            "_workspace",
            "_info",
        ):
            top_errors[key] = "unknown field"
    for key in TOP_KEYS:
        if key in doc and doc[key] is not None and not isinstance(doc[key], list):
            top_errors[key] = "expected an array"
    if top_errors:
        return 400, _declarative_error(top_errors, [] if flatten_errors else None)
    loader = _Loader(runtime)
    for table in ("services", "routes", "consumers", "oauth2_credentials", "jwt_secrets"):
        for i, item in enumerate(doc.get(table) or []):
            loader.add(table, item, None, [table, i])
    for i, item in enumerate(doc.get("plugins") or []):
        loader.deferred.append(("plugins", item, None, ["plugins", i]))
    for table, item, parent, path in loader.deferred:
        loader.add(table, item, parent, path)
    if loader.errors:
        return 400, _declarative_error(loader.errors, loader.flattened if flatten_errors else None)
    runtime.store.replace_all(loader.store.tables, loader.store.given, digest(raw))
    return 201, {table: dict(rows) for table, rows in loader.store.tables.items()}


def export_yaml(store: EntityStore) -> str:
    """The loaded config as Kong's ``GET /config`` returns it: flat decK YAML with ids."""
    doc: dict[str, Any] = {"_format_version": "3.0", "_transform": False}
    for table in TOP_KEYS:
        rows = list(store.tables[table].values())
        if rows:
            doc[table] = rows
    return yaml.safe_dump(doc, sort_keys=False)
