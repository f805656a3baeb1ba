"""Form-encoded Admin API bodies (``curl --data 'paths[]=/x' --data 'config.issuer=...'``) turned into the
nested JSON Kong would build from them, with string values coerced to the schema's types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kongformance.gateway.schemas import config_schema

_INDEX = re.compile(r"^(.*)\[(\d*)\]$")


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a.b=1``, ``a[]=x``, ``a[2]=y`` and repeated keys -> nested dicts and lists."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        m = _INDEX.match(last)
        if m:
            name, index = m.group(1), m.group(2)
            items = node.get(name)
            if not isinstance(items, list):
                items = []
                node[name] = items
            if index:
                pos = int(index) - 1 if int(index) > 0 else 0
                while len(items) <= pos:
                    items.append(None)
                items[pos] = value
            else:
                items.append(value)
        elif last in node:
            prev = node[last]
            node[last] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            node[last] = value
    return out


def coerce(schema: Mapping[str, Any] | None, value: Any) -> Any:
    """Convert form strings to the type ``schema`` expects (booleans, numbers, arrays, records)."""
    if not isinstance(schema, Mapping):
        return value
    kind = schema.get("type")
    if isinstance(value, str):
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "integer":
            try:
                return int(value)
            except ValueError:
                return value
        if kind == "number":
            try:
                num = float(value)
            except ValueError:
                return value
            return int(num) if num.is_integer() else num
        if kind == "array":
            return [coerce(schema.get("items"), value)]
        return value
    if isinstance(value, list) and kind == "array":
        return [coerce(schema.get("items"), v) for v in value]
    if isinstance(value, dict) and kind == "object":
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        return {
            k: coerce(props.get(k, extra if isinstance(extra, Mapping) else None), v)
            for k, v in value.items()
        }
    return value


def coerce_for_table(table: str, data: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce a parsed form for an entity table; a plugin's ``config`` follows that plugin's schema."""
    out: dict[str, Any] = coerce(schema, data)
    if table == "plugins" and isinstance(out.get("config"), dict) and isinstance(out.get("name"), str):
        plugin_schema = config_schema(out["name"], (3, 15))
        out["config"] = coerce(plugin_schema, out["config"]) if plugin_schema else out["config"]
    return out
