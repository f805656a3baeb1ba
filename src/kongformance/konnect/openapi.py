"""Requests checked against Kong's own OpenAPI documents: operation, path and query parameters, JSON body.

:class:`OpenApiDocument` loads one document shipped under ``reference/konnect-openapi/``, matches a request
to its operation (path template and method) and validates it with ``jsonschema`` (``$ref`` resolved through
a ``referencing`` registry over the whole document; OpenAPI 3.0 ``nullable`` mapped to a ``null`` type).
Every violation becomes one ``invalid_parameters`` entry of Konnect's ``BadRequestError``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7, DRAFT202012

from kongformance.problem_json import InvalidParameter, invalid

DOC_URI = "urn:kongformance:openapi"
_METHODS = ("get", "put", "post", "delete", "patch")
_TYPE_RULES = {
    "string": "is_string",
    "integer": "is_integer",
    "number": "is_number",
    "boolean": "is_boolean",
    "array": "is_array",
    "object": "is_object",
}


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema (``type: [T, "null"]``)."""
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_type(v) for k, v in node.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@dataclass(frozen=True)
class Operation:
    """One operation of the document: its template, method and merged parameters."""

    template: str
    method: str
    pointer: str  # JSON pointer of the operation object
    parameters: tuple[dict[str, Any], ...]
    body_required: bool
    body_pointer: str | None  # JSON pointer of the application/json request body schema


@dataclass
class Match:
    """What :meth:`OpenApiDocument.match` found: the operation, or the allowed methods of the path."""

    operation: Operation | None
    path_params: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()


def _absolute_refs(node: Any) -> Any:
    """``#/...`` references made absolute, so a schema taken out of the document still resolves."""
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _absolute_refs(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        out["$ref"] = DOC_URI + ref
    return out


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class OpenApiDocument:
    """An OpenAPI document whose paths are served under ``prefix`` (``/v1`` or ``/v2``)."""

    def __init__(self, doc: dict[str, Any], prefix: str) -> None:
        self.version_30 = str(doc.get("openapi", "3.1")).startswith("3.0")
        self.doc = _nullable_to_type(doc) if self.version_30 else doc
        self.prefix = prefix.rstrip("/")
        spec = DRAFT7 if self.version_30 else DRAFT202012
        self._validator_cls = Draft7Validator if self.version_30 else Draft202012Validator
        self._registry: Registry[Any] = Registry().with_resource(DOC_URI, spec.create_resource(self.doc))
        self._paths: list[tuple[re.Pattern[str], str, dict[str, Operation]]] = []
        for template, item in self.doc.get("paths", {}).items():
            shared = [self._deref(p) for p in item.get("parameters", [])]
            ops: dict[str, Operation] = {}
            for method in _METHODS:
                if method not in item:
                    continue
                op = item[method]
                own = [self._deref(p) for p in op.get("parameters", [])]
                names = {(p["in"], p["name"]) for p in own}
                params = tuple(own + [p for p in shared if (p["in"], p["name"]) not in names])
                pointer = f"/paths/{_escape(template)}/{method}"
                body = self._deref(op["requestBody"]) if "requestBody" in op else None
                has_json = body is not None and "application/json" in body.get("content", {})
                ops[method.upper()] = Operation(
                    template=template,
                    method=method.upper(),
                    pointer=pointer,
                    parameters=params,
                    body_required=bool(body and body.get("required")),
                    body_pointer=self._body_pointer(pointer, op) if has_json else None,
                )
            pattern = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
            self._paths.append((re.compile(f"^{pattern}/?$"), template, ops))
        # literal segments win over parameters (``/nodes/eol`` before ``/nodes/{nodeId}``)
        self._paths.sort(key=lambda entry: entry[1].count("{"))

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _body_pointer(self, pointer: str, op: dict[str, Any]) -> str:
        ref = op["requestBody"].get("$ref")
        base = ref.removeprefix("#") if ref else pointer + "/requestBody"
        return base + "/content/application~1json/schema"

    def match(self, method: str, path: str) -> Match | None:
        """The operation for ``method path`` (path including the prefix); None when no path matches."""
        if not path.startswith(self.prefix + "/"):
            return None
        rest = path[len(self.prefix) :]
        for pattern, _template, ops in self._paths:
            found = pattern.match(rest)
            if found is None:
                continue
            params = dict(zip(re.findall(r"\{([^}]+)\}", _template), found.groups(), strict=True))
            if method.upper() in ops:
                return Match(ops[method.upper()], params)
            return Match(None, params, tuple(sorted(ops)))
        return None

    def _validator(self, pointer_or_schema: str | dict[str, Any]) -> Any:
        schema = (
            {"$ref": f"{DOC_URI}#{pointer_or_schema}"}
            if isinstance(pointer_or_schema, str)
            else pointer_or_schema
        )
        return self._validator_cls(schema, registry=self._registry, format_checker=FormatChecker())

    def validate(
        self,
        match: Match,
        query: Sequence[tuple[str, str]],
        body: bytes,
    ) -> list[InvalidParameter]:
        """Every way the request departs from the operation (empty when it conforms)."""
        op = match.operation
        assert op is not None
        problems: list[InvalidParameter] = []
        supplied = dict(query)
        for param in op.parameters:
            where, name = param["in"], param["name"]
            if where == "path":
                raw: str | None = match.path_params.get(name)
            elif where == "query":
                raw = supplied.get(name)
            else:
                continue
            if raw is None:
                if param.get("required"):
                    problems.append(invalid(name, "required", "is a required field", source=where))
                continue
            schema = param.get("schema", {})
            if raw == "" and param.get("allowEmptyValue"):
                continue
            problems += self._check(_coerce(raw, schema), _absolute_refs(schema), name, where)
        problems += self._check_body(op, body)
        return problems

    def _check_body(self, op: Operation, body: bytes) -> list[InvalidParameter]:
        if not body.strip():
            if op.body_required:
                return [invalid("body", "required", "request body is required")]
            return []
        if op.body_pointer is None:
            return []
        try:
            value = json.loads(body)
        except ValueError:
            return [invalid("body", "invalid", "request body is not valid JSON")]
        return self._check(value, op.body_pointer, "", "body")

    def _check(
        self, value: Any, schema: str | dict[str, Any], name: str, source: str
    ) -> list[InvalidParameter]:
        validator = self._validator(schema)
        out = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            out.append(_entry(error, name, source))
        return out


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema declares (left as text when it does not parse)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _entry(error: ValidationError, name: str, source: str) -> InvalidParameter:
    parts = [str(p) for p in error.absolute_path]
    field_name = ".".join([name, *parts] if name else parts) or name or "body"
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        if missing:
            prefix = f"{field_name}." if parts or name else ""
            return invalid(prefix + missing[0], "required", "is a required field", source=source)
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(", 1)[-1])
        prefix = f"{field_name}." if parts or name else ""
        unknown = prefix + extra[0] if extra else field_name
        return invalid(unknown, "unknown_property", "unknown property", source=source)
    if error.validator == "type":
        expected = error.validator_value
        first = expected[0] if isinstance(expected, list) else expected
        rule = _TYPE_RULES.get(str(first))
        return invalid(field_name, rule, error.message, source=source)
    if error.validator == "enum":
        return invalid(field_name, "enum", error.message, source=source, choices=list(error.validator_value))
    if error.validator == "format" and error.validator_value == "uuid":
        return invalid(field_name, "is_uuid", "must be a valid UUID", source=source)
    return invalid(field_name, None, error.message, source=source)


@functools.cache
def shipped(name: str, prefix: str) -> OpenApiDocument:
    """A document under ``reference/konnect-openapi/`` (parsed once per process)."""
    text = resources.files("kongformance").joinpath(f"reference/konnect-openapi/{name}").read_text("utf-8")
    return OpenApiDocument(yaml.safe_load(text), prefix)


def konnect_documents() -> tuple[OpenApiDocument, ...]:
    """The documents Konnect's API is checked against: Kong Identity v1, control planes v2 and config v2."""
    return (
        shipped("kong-identity-v1.yaml", "/v1"),
        shipped("control-planes-config-v2.subset.yaml", "/v2"),
        shipped("control-planes-v2.yaml", "/v2"),
    )
