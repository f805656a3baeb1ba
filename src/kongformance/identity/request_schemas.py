"""Validation of management request bodies against Kong Identity's own OpenAPI document.

The request-body schemas of ``reference/konnect-openapi/kong-identity-v1.yaml`` are turned into plain JSON
Schema (``$ref`` inlined, OpenAPI ``nullable`` mapped to a ``null`` type, unknown top-level properties
refused) and checked with ``jsonschema``. Every violation becomes one ``invalid_parameters`` entry whose
``rule`` follows the document's ``InvalidRules`` / ``InvalidParameter*`` schemas (https://developer.konghq.com/api/konnect/kong-identity/v1/).
"""

from __future__ import annotations

import copy
import functools
import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from kongformance.problem_json import InvalidParameter, bad_request, invalid

OPENAPI_RESOURCE = ("kongformance", "reference/konnect-openapi/kong-identity-v1.yaml")

LABEL_KEY_FORBIDDEN_PREFIXES = ("kong", "konnect", "mesh", "kic", "_")
MAX_LABELS = 50

_TYPE_RULES = {
    "string": "is_string",
    "integer": "is_integer",
    "number": "is_number",
    "boolean": "is_boolean",
    "array": "is_array",
    "object": "is_object",
    "null": "is_null",
}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The Kong Identity v1 OpenAPI document shipped with the package."""
    package, path = OPENAPI_RESOURCE
    text = resources.files(package).joinpath(path).read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def _resolve(node: Any, doc: dict[str, Any]) -> Any:
    """Inline ``$ref``s and translate OpenAPI 3.0 keywords into JSON Schema."""
    if isinstance(node, list):
        return [_resolve(item, doc) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, doc)
    out = {
        k: _resolve(v, doc)
        for k, v in node.items()
        if k not in ("example", "x-examples", "readOnly", "writeOnly")
    }
    if out.get("type") == "array" and "maxLength" in out:
        # TrustedOrigins declares "maxLength: 16" on an array; read it as a cap on the number of items
        out["maxItems"] = out.pop("maxLength")
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def body_schema(request_body: str) -> dict[str, Any]:
    """The JSON Schema of ``components.requestBodies.<request_body>``, closed to unknown properties."""
    doc = openapi_document()
    media = doc["components"]["requestBodies"][request_body]["content"]["application/json"]
    schema: dict[str, Any] = _resolve(copy.deepcopy(media["schema"]), doc)
    schema.pop("examples", None)
    if "properties" in schema:
        schema["additionalProperties"] = False
    return schema


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme))


_format_checker = FormatChecker()
# registered by a call, not as a decorator: jsonschema is untyped here, and a decorator would untype _is_uri
_format_checker.checks("uri")(_is_uri)


@functools.cache
def _validator(request_body: str) -> Draft7Validator:
    return Draft7Validator(body_schema(request_body), format_checker=_format_checker)


def _field(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child


def _entries(error: ValidationError) -> list[InvalidParameter]:
    """Translate one jsonschema error into ``invalid_parameters`` entries."""
    where = _field(error)
    kind = error.validator
    value = error.validator_value
    path = list(error.absolute_path)
    in_labels = "labels" in path[:1]
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return [invalid(_join(where, name), "required", "is a required field") for name in missing]
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - known) if isinstance(error.instance, dict) else []
        return [invalid(_join(where, name), "unknown_property", "is an unknown field") for name in extra]
    if kind == "type":
        expected = value if isinstance(value, str) else next(v for v in value if v != "null")
        if in_labels and len(path) > 1:
            return [invalid(where, "is_label", "label values must be strings")]
        return [invalid(where or "body", _TYPE_RULES.get(expected, "type"), f"must be a {expected}")]
    if kind == "enum":
        choices = [c for c in value if c is not None]
        return [invalid(where, "enum", f"must be one of {choices}", choices=choices)]
    if kind in ("minLength", "minItems", "minimum"):
        rule = {"minLength": "min_length", "minItems": "min_items", "minimum": "min"}[kind]
        if in_labels:
            return [invalid(where, "is_label", "label values must have 1 to 63 characters")]
        return [invalid(where, rule, f"must be at least {value}", minimum=int(value))]
    if kind in ("maxLength", "maxItems", "maximum", "maxProperties"):
        if in_labels:
            return [invalid(where, "is_label", f"must not have more than {value} entries or characters")]
        rule = {"maxLength": "max_length", "maxItems": "max_items", "maximum": "max"}[kind]
        return [invalid(where, rule, f"must not be more than {value}", maximum=int(value))]
    if kind == "pattern":
        if in_labels:
            return [invalid(where, "is_label", f"label value must match {value}")]
        return [invalid(where, "matches_regex", f"must match {value}")]
    if kind == "format":
        rule = {"uuid": "is_uuid", "date-time": "is_date_time"}.get(value, "invalid")
        return [invalid(where, rule, f"must be a valid {value}")]
    if kind == "uniqueItems":
        return [invalid(where, "invalid", "must not contain duplicate items")]
    return [invalid(where or "body", "invalid", "is invalid")]


def label_key_problems(labels: Any, field: str = "labels") -> list[InvalidParameter]:
    """Kong's label key rules (A.10): 1-63 characters, no reserved prefix."""
    if not isinstance(labels, dict):
        return []
    out: list[InvalidParameter] = []
    for key in labels:
        if not 1 <= len(key) <= 63:
            out.append(invalid(f"{field}.{key}", "is_label", "label keys must have 1 to 63 characters"))
        elif key.startswith(LABEL_KEY_FORBIDDEN_PREFIXES):
            out.append(
                invalid(
                    f"{field}.{key}",
                    "is_label",
                    'label keys must not start with "kong", "konnect", "mesh", "kic" or "_"',
                )
            )
    return out


def validate_body(request_body: str, body: Any) -> dict[str, Any]:
    """Check ``body`` against the named request body; raise a 400 Problem listing every violation."""
    problems: list[InvalidParameter] = []
    for error in sorted(
        _validator(request_body).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))
    ):
        for entry in _entries(error):
            if entry not in problems:
                problems.append(entry)
    if isinstance(body, dict):
        problems.extend(label_key_problems(body.get("labels")))
    if problems:
        raise bad_request(problems)
    assert isinstance(body, dict)
    return body
