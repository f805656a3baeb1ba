"""The reference gateway's in-memory entity tables with Kong's write semantics.

Create, patch, upsert and delete apply what Kong's DAO applies: field validation, defaults per
kong_version, generated ids and secrets, foreign keys (by id or endpoint key), unique fields, cascades,
and plugin config validation against Kong's JSON schemas. Every write bumps ``generation`` and calls the
change listeners, so the proxy rebuilds its route table at once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.gateway import plugins as registry
from kongformance.gateway.credentials import hash_client_secret
from kongformance.gateway.entities import (
    KINDS,
    OAUTH2_CREDENTIAL,
    PLUGIN,
    ROUTE,
    SERVICE,
    EntityKind,
    check_entity,
    check_fields,
    expand_service_url,
    foreign_key_violation,
    is_uuid,
    new_id,
    random_secret,
    route_protocols_default,
    unique_violation,
)
from kongformance.gateway.schemas import (
    KongError,
    Version,
    config_schema,
    plugin_protocols,
    schema_violation,
    validate_plugin_config,
)

Entity = dict[str, Any]
ParentRef = tuple[str, str]  # (foreign-key field, parent id) given by a nested URL
_HAS_UPDATED_AT = {"services", "routes", "consumers", "plugins"}


class EntityStore:
    """Kong's entity tables for one gateway (insertion-ordered, like a fresh database)."""

    def __init__(self, clock: Clock, version: Version, defects: DefectSwitches) -> None:
        self.clock = clock
        self.version = version
        self.defects = defects
        self.tables: dict[str, dict[str, Entity]] = {t: {} for t in KINDS}
        self.generation = 0
        self.listeners: list[Callable[[], None]] = []
        # id -> the fields a client gave for a route or plugin (before defaults): lets the runtime tell an
        # explicit value from a default one (defects that ignore version-dependent defaults)
        self.given: dict[str, dict[str, Any]] = {}
        self.config_hash: str | None = None  # digest of the last declarative config loaded (DB-less)

    # --- reads -------------------------------------------------------------------------------------

    def get(self, table: str, key: str, parent: ParentRef | None = None) -> Entity | None:
        """An entity by id or endpoint key (name, username, client_id...), optionally under a parent."""
        kind = KINDS[table]
        rows = self.tables[table]
        found = rows.get(key)
        if found is None:
            for ek in kind.endpoint_keys:
                found = next((e for e in rows.values() if e.get(ek) == key), None)
                if found is not None:
                    break
        if found is not None and parent is not None:
            ref = found.get(parent[0]) or {}
            if ref.get("id") != parent[1]:
                return None
        return found

    def list(self, table: str, parent: ParentRef | None = None) -> list[Entity]:
        rows = list(self.tables[table].values())
        if parent is not None:
            rows = [e for e in rows if (e.get(parent[0]) or {}).get("id") == parent[1]]
        return rows

    # --- writes ------------------------------------------------------------------------------------

    def create(self, table: str, body: Any, parent: ParentRef | None = None) -> Entity:
        entity = self._prepare(KINDS[table], body, parent, existing=None)
        self._remember(entity, body)
        self.tables[table][entity["id"]] = entity
        self._changed()
        return entity

    def patch(self, table: str, key: str, body: Any, parent: ParentRef | None = None) -> Entity | None:
        current = self.get(table, key, parent)
        if current is None:
            return None
        if not isinstance(body, Mapping):
            raise schema_violation({"@entity": ["expected a record"]})
        if table == OAUTH2_CREDENTIAL.table and len({"hash_secret", "client_secret"} & set(body)) == 1:
            # Kong's transformation (input hash_secret, needs client_secret) wants both or neither on update
            message = "all or none of these fields must be set: 'hash_secret', 'client_secret'"
            raise schema_violation({"@entity": [message]})
        merged = _merge(current, body)
        merged.pop("updated_at", None)
        if table == "services" and "url" in body:
            for f in ("protocol", "host", "port", "path"):
                merged.pop(f, None)
        entity = self._prepare(KINDS[table], merged, parent, existing=current)
        self._remember(entity, _merge(self.given.get(entity["id"], {}), body))
        self.tables[table][entity["id"]] = entity
        self._changed()
        return entity

    def upsert(self, table: str, key: str, body: Any, parent: ParentRef | None = None) -> Entity:
        """PUT: replace the entity named by ``key`` (an id, or an endpoint key) or create it."""
        kind = KINDS[table]
        if not isinstance(body, Mapping):
            raise schema_violation({"@entity": ["expected a record"]})
        body = dict(body)
        current = self.get(table, key, parent)
        if is_uuid(key):
            body["id"] = key
        elif kind.endpoint_keys:
            body[kind.endpoint_keys[0]] = key
        if current is not None:
            body["id"] = current["id"]
        entity = self._prepare(kind, body, parent, existing=current)
        self._remember(entity, body)
        self.tables[table][entity["id"]] = entity
        self._changed()
        return entity

    def delete(self, table: str, key: str, parent: ParentRef | None = None) -> bool:
        entity = self.get(table, key, parent)
        if entity is None:
            return False
        eid = entity["id"]
        if table == "services" and any(
            (r.get("service") or {}).get("id") == eid for r in self.list("routes")
        ):
            raise KongError(
                400,
                {
                    "code": 4,
                    "name": "foreign key violation",
                    "message": "an existing 'routes' entity references this 'services' entity",
                    "fields": {"@referenced_by": "routes"},
                },
            )
        del self.tables[table][eid]
        self._cascade(table, eid)
        self._changed()
        return True

    def replace_all(
        self,
        tables: Mapping[str, Mapping[str, Entity]],
        given: Mapping[str, dict[str, Any]],
        config_hash: str,
    ) -> None:
        """Swap every table at once (DB-less ``POST /config``)."""
        self.tables = {t: dict(tables.get(t, {})) for t in KINDS}
        self.given = dict(given)
        self.config_hash = config_hash
        self._changed()

    # --- internals ---------------------------------------------------------------------------------

    def _remember(self, entity: Entity, body: Any) -> None:
        if isinstance(body, Mapping) and ("protocols" in entity or "config" in entity):
            self.given[entity["id"]] = copy.deepcopy(dict(body))

    def _changed(self) -> None:
        self.generation += 1
        for listener in self.listeners:
            listener()

    def _cascade(self, table: str, eid: str) -> None:
        fk = {"services": "service", "routes": "route", "consumers": "consumer"}.get(table)
        if fk is None:
            return
        for child_table, kind in KINDS.items():
            if kind is PLUGIN or kind.parent == fk:
                rows = self.tables[child_table]
                for cid in [i for i, e in rows.items() if (e.get(fk) or {}).get("id") == eid]:
                    del rows[cid]

    def _resolve(self, field_name: str, ref: Any, parent_table: str) -> dict[str, str] | None:
        if ref is None:
            return None
        key = ref.get("id") or ref.get("name") or ref.get("username")
        found = self.get(parent_table, key) if key else None
        if found is None or (ref.get("id") and found["id"] != ref["id"]):
            raise foreign_key_violation(field_name, ref, parent_table)
        return {"id": found["id"]}

    def _prepare(
        self, kind: EntityKind, body: Any, parent: ParentRef | None, existing: Entity | None
    ) -> Entity:
        if not isinstance(body, Mapping):
            raise schema_violation({"@entity": ["expected a record"]})
        data: Entity = copy.deepcopy(dict(body))
        if parent is not None:
            data[parent[0]] = {"id": parent[1]}
        if kind is SERVICE:
            data = expand_service_url(data)
        check_fields(kind, data)
        entity: Entity = {k: copy.deepcopy(v) for k, v in kind.defaults.items()}
        entity.update({k: v for k, v in data.items() if v is not None or k not in kind.defaults})
        for f, length in kind.generated.items():
            if not entity.get(f):
                entity[f] = random_secret(length)
        if kind is OAUTH2_CREDENTIAL and entity.get("hash_secret"):
            previous = existing or {}
            if not previous.get("hash_secret") or entity.get("client_secret") != previous.get(
                "client_secret"
            ):
                entity["client_secret"] = hash_client_secret(str(entity["client_secret"]))
        if kind is ROUTE and entity.get("protocols") is None:
            entity["protocols"] = route_protocols_default(self.version)
        if kind is ROUTE and entity.get("methods"):
            entity["methods"] = [m.upper() for m in entity["methods"]]
        for fk_field, fk_table in (("service", "services"), ("route", "routes"), ("consumer", "consumers")):
            if fk_field in kind.schema["properties"] and entity.get(fk_field) is not None:
                entity[fk_field] = self._resolve(fk_field, entity[fk_field], fk_table)
        if kind is PLUGIN:
            self._prepare_plugin(entity)
        check_entity(kind, entity)
        entity["id"] = entity.get("id") or (existing or {}).get("id") or new_id()
        now = int(self.clock.now())
        entity["created_at"] = (existing or {}).get("created_at") or entity.get("created_at") or now
        if kind.table in _HAS_UPDATED_AT:
            entity["updated_at"] = now
        if existing is None and entity["id"] in self.tables[kind.table]:
            raise KongError(
                400,
                {
                    "code": 3,
                    "name": "primary key violation",
                    "message": f"primary key violation on key '{{id=\"{entity['id']}\"}}'",
                    "fields": {"id": entity["id"]},
                },
            )
        self._check_unique(kind, entity)
        return entity

    def _prepare_plugin(self, entity: Entity) -> None:
        name = entity["name"]
        cls = registry.plugin_class(name)
        if cls is None:
            msg = f"plugin '{name}' not enabled; add it to the 'plugins' configuration property"
            raise schema_violation({"name": msg})
        registered, test_schema = registry.registered_schema(name)
        schema = test_schema if registered else config_schema(name, self.version)
        checks = getattr(cls, "entity_checks", None)
        entity["config"] = validate_plugin_config(
            name, entity.get("config"), self.version, schema=schema, entity_checks=checks
        )
        late = getattr(cls, "checks_with_defects", None)  # entity checks a defect can switch off
        if late is not None:
            errors = late(entity["config"], self.defects)
            if errors:
                raise schema_violation(errors)
        # fields Kong generates (``auto = true``), e.g. the oauth2 provision_key
        auto = getattr(cls, "auto_fields", None)
        if auto is not None:
            entity["config"] = auto(entity["config"])
        if not entity.get("protocols"):
            entity["protocols"] = plugin_protocols(name)

    def _check_unique(self, kind: EntityKind, entity: Entity) -> None:
        rows = self.tables[kind.table]
        for f in kind.unique:
            value = entity.get(f)
            if value is None:
                continue
            for e in rows.values():
                if e["id"] != entity["id"] and e.get(f) == value:
                    raise unique_violation(kind, f, value)
        if kind is PLUGIN:
            scope = tuple((entity.get(f) or {}).get("id") for f in ("route", "service", "consumer"))
            for e in rows.values():
                same = tuple((e.get(f) or {}).get("id") for f in ("route", "service", "consumer"))
                if e["id"] != entity["id"] and e["name"] == entity["name"] and same == scope:
                    raise _plugin_unique_violation(entity)


def _plugin_unique_violation(entity: Entity) -> KongError:
    fields = {f: entity.get(f) for f in ("consumer", "name", "route", "service")}

    def show(v: Any) -> str:
        if v is None:
            return "null"
        if isinstance(v, Mapping):
            return "{" + ",".join(f'{k}="{x}"' for k, x in v.items()) + "}"
        return f'"{v}"'

    pretty = "{" + ",".join(f"{k}={show(v)}" for k, v in fields.items()) + "}"
    return KongError(
        409,
        {
            "code": 5,
            "name": "unique constraint violation",
            "message": f"UNIQUE violation detected on '{pretty}'",
            "fields": fields,
        },
    )


def _merge(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH semantics: records merge field by field; everything else is replaced."""
    out = copy.deepcopy(dict(current))
    for k, v in patch.items():
        if (
            isinstance(v, Mapping)
            and isinstance(out.get(k), Mapping)
            and k not in ("service", "route", "consumer")
        ):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out
