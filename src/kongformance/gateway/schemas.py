"""Kong's error format, and plugin config validation and defaulting from Kong's JSON schemas.

The JSON schemas in ``reference/kong-plugin-schemas-3.15`` describe each plugin's ``config``. jsonschema
does the validation; this module turns its errors into Kong's field errors (``"required field missing"``,
``"unknown field"``, ``"expected a string"``...) and fills defaults as Kong does: every field is present
in the stored config, unset ones as ``null``, records filled with their own defaults. Version overlays
give the pre-3.14 defaults and fields (https://developer.konghq.com/gateway/authentication/ and https://developer.konghq.com/plugins/openid-connect/#consumer-authorization).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

SCHEMA_FILES: dict[str, str] = {
    "openid-connect": "OpenidConnect.json",
    "jwt": "Jwt.json",
    "oauth2-introspection": "Oauth2Introspection.json",
    "upstream-oauth": "UpstreamOauth.json",
    "oauth2": "Oauth2.json",
}

Version = tuple[int, int]


class KongError(Exception):
    """An Admin API error answered as Kong answers it: ``status`` and a JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def lua_pretty(value: Any) -> str:
    """A compact rendering of a nested error value, in the spirit of Penlight's ``pretty.write``."""
    if isinstance(value, Mapping):
        inner = ",".join(f"{k}={lua_pretty(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
        return "{" + inner + "}"
    if isinstance(value, list):
        return "{" + ",".join(lua_pretty(v) for v in value) + "}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def schema_violation(fields: Mapping[str, Any]) -> KongError:
    """Kong's ``schema violation`` error (code 2, HTTP 400) for nested field errors (kong/db/errors.lua)."""
    buf: list[str] = []
    entity = fields.get("@entity")
    if isinstance(entity, list):
        buf.extend(str(e) for e in entity)
    for name in sorted(k for k in fields if k != "@entity"):
        errs = fields[name]
        if isinstance(errs, Mapping):
            for sub in sorted(errs, key=str):
                val = errs[sub]
                buf.append(f"{name}.{sub}: {val if isinstance(val, str) else lua_pretty(val)}")
        elif isinstance(errs, list):
            buf.append(f"{name}: {lua_pretty(errs)}")
        else:
            buf.append(f"{name}: {errs}")
    if len(buf) == 1:
        message = f"schema violation ({buf[0]})"
    else:
        message = f"{len(buf)} schema violations ({'; '.join(buf)})"
    return KongError(400, {"code": 2, "name": "schema violation", "message": message, "fields": dict(fields)})


def not_found() -> KongError:
    return KongError(404, {"message": "Not found"})


# --- loading and version overlays -------------------------------------------------------------------

# fields that appeared in a later version: removed from the schema for older kong_version values
_ADDED_IN: dict[str, list[tuple[Version, tuple[str, ...]]]] = {
    "openid-connect": [
        ((3, 14), ("consumer_claims", "upstream_headers", "jwks_endpoint")),
        ((3, 15), ("bearer_token_header_name",)),
    ],
}
# fields that existed only before a version: added to the schema for older kong_version values
_REMOVED_IN: dict[str, list[tuple[Version, dict[str, Any]]]] = {
    "openid-connect": [((3, 14), {"consumer_claim": {"type": "array", "items": {"type": "string"}}})],
}
# defaults that changed in 3.14 (https://developer.konghq.com/gateway/authentication/): path inside config -> value before 3.14
LEGACY_DEFAULTS: dict[str, dict[tuple[str, ...], Any]] = {
    "openid-connect": {("hide_credentials",): False, ("ssl_verify",): False},
    "oauth2": {("hide_credentials",): False},
    "oauth2-introspection": {("hide_credentials",): False},
    "upstream-oauth": {("client", "ssl_verify"): False},
}


def _read_schema(filename: str) -> dict[str, Any]:
    ref = resources.files("kongformance").joinpath("reference", "kong-plugin-schemas-3.15", filename)
    schema: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return schema


def _close(node: Any) -> None:
    """Kong records refuse unknown fields and strings refuse "" (len_min 1) unless the schema says otherwise."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        if node.get("type") == "string" and "minLength" not in node and node.get("default") != "":
            node["minLength"] = 1
        for v in node.values():
            _close(v)
    elif isinstance(node, list):
        for v in node:
            _close(v)


@lru_cache(maxsize=64)
def _config_schema(name: str, version: Version) -> dict[str, Any] | None:
    filename = SCHEMA_FILES.get(name)
    if filename is None:
        return None
    full = _read_schema(filename)
    schema: dict[str, Any] = copy.deepcopy(full["properties"]["config"])
    props = schema.setdefault("properties", {})
    for since, names in _ADDED_IN.get(name, []):
        if version < since:
            for field in names:
                props.pop(field, None)
    for until, added in _REMOVED_IN.get(name, []):
        if version < until:
            props.update(copy.deepcopy(added))
    if version < (3, 14):
        for path, value in LEGACY_DEFAULTS.get(name, {}).items():
            node = schema
            for part in path:
                node = node["properties"][part]
            node["default"] = value
    _close(schema)
    return schema


def plugin_protocols(name: str) -> list[str]:
    """The default ``protocols`` of a plugin entity (from its schema; http plugins otherwise)."""
    filename = SCHEMA_FILES.get(name)
    if filename is None:
        return ["grpc", "grpcs", "http", "https"]
    prop = _read_schema(filename)["properties"].get("protocols", {})
    return list(prop.get("default", ["grpc", "grpcs", "http", "https"]))


def config_schema(name: str, version: Version) -> dict[str, Any] | None:
    """The JSON schema of plugin ``name``'s config for ``version``; None when no schema is known."""
    return _config_schema(name, version)


# --- validation ---------------------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "string": "expected a string",
    "boolean": "expected a boolean",
    "number": "expected a number",
    "integer": "expected an integer",
    "array": "expected an array",
    "object": "expected a record",
}


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _message(err: jsonschema.ValidationError) -> str:
    kind = err.validator
    schema = err.schema if isinstance(err.schema, Mapping) else {}
    if kind == "type":
        if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), Mapping):
            return "expected a map"
        return _TYPE_MESSAGES.get(str(err.validator_value), f"expected a {err.validator_value}")
    if kind == "enum":
        return "expected one of: " + ", ".join(str(v) for v in err.validator_value)
    if kind in ("minimum", "maximum"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None:
            return f"value should be between {_num(lo)} and {_num(hi)}"
        if lo is not None:
            return f"value must be greater than or equal to {_num(lo)}"
        return f"value must be less than or equal to {_num(hi)}"
    if kind in ("minLength", "minItems"):
        return f"length must be at least {err.validator_value}"
    if kind in ("maxLength", "maxItems"):
        return f"length must be at most {err.validator_value}"
    if kind == "pattern":
        return f"invalid value: {err.instance}"
    return str(err.message)


def _put(tree: dict[Any, Any], path: list[Any], message: str) -> None:
    node = tree
    for part in path[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node.setdefault(path[-1], message)


def _listify(node: Any) -> Any:
    """Turn integer-keyed error dicts (array positions) into JSON arrays, as Kong's cjson does."""
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v) for k, v in node.items()}
    if out and all(isinstance(k, int) for k in out):
        arr: list[Any] = [None] * (max(out) + 1)
        for k, v in out.items():
            arr[k] = v
        return arr
    return out


def _strip_nulls(value: Any) -> Any:
    """JSON null on a field means "unset" to Kong; drop it so the schema sees an absent field."""
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


_VALIDATORS: dict[int, tuple[Mapping[str, Any], jsonschema.Draft7Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft7Validator:
    """A validator per schema object (schemas are cached, so their identity is stable)."""
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, jsonschema.Draft7Validator(schema))
        _VALIDATORS[id(schema)] = entry
    return entry[1]


def field_errors(schema: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """Kong-style nested field errors of ``value`` against a (closed) JSON schema; empty when valid."""
    tree: dict[Any, Any] = {}
    validator = _validator(schema)
    for err in validator.iter_errors(value):
        path = list(err.absolute_path)
        if err.validator == "required":
            present = err.instance if isinstance(err.instance, Mapping) else {}
            for req in err.validator_value:
                if req not in present:
                    _put(tree, [*path, req], "required field missing")
        elif err.validator == "additionalProperties" and err.validator_value is False:
            known = err.schema.get("properties", {}) if isinstance(err.schema, Mapping) else {}
            for key in err.instance:
                if key not in known:
                    _put(tree, [*path, key], "unknown field")
        elif not path:
            tree.setdefault("@entity", []).append(_message(err))
        else:
            _put(tree, path, _message(err))
    errors: dict[str, Any] = _listify(tree)
    return errors


def fill_defaults(schema: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    """Every property present: the given value, else the default, else a filled record, else None."""
    out: dict[str, Any] = {}
    props: Mapping[str, Any] = schema.get("properties", {})
    for key, sub in props.items():
        given = value.get(key)
        if given is None:
            if "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object" and "properties" in sub and not sub.get("required"):
                out[key] = fill_defaults(sub, {})
            else:
                out[key] = None
        elif sub.get("type") == "object" and "properties" in sub and isinstance(given, Mapping):
            out[key] = fill_defaults(sub, given)
        elif sub.get("type") == "array" and isinstance(given, list) and isinstance(sub.get("items"), Mapping):
            items = sub["items"]
            if items.get("type") == "object" and "properties" in items:
                out[key] = [fill_defaults(items, v) if isinstance(v, Mapping) else v for v in given]
            else:
                out[key] = copy.deepcopy(given)
        else:
            out[key] = copy.deepcopy(given)
    for key, given in value.items():  # map-typed records keep their own keys
        if key not in out:
            out[key] = copy.deepcopy(given)
    return out


EntityCheck = Callable[[dict[str, Any]], Mapping[str, Any]]


def validate_plugin_config(
    name: str,
    config: Any,
    version: Version,
    *,
    schema: Mapping[str, Any] | None,
    entity_checks: EntityCheck | None = None,
) -> dict[str, Any]:
    """The validated, fully defaulted ``config`` of plugin ``name``, or :class:`KongError` naming the fields."""
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise schema_violation({"config": "expected a record"})
    cleaned: dict[str, Any] = _strip_nulls(dict(config))
    if schema is None:
        return cleaned
    errors = field_errors(schema, cleaned)
    if errors:
        raise schema_violation({"config": errors})
    full = fill_defaults(schema, cleaned)
    if entity_checks is not None:
        extra = dict(entity_checks(full) or {})
        if extra:
            nested = extra if set(extra) == {"config"} else {"config": extra}
            raise schema_violation(nested)
    return full
