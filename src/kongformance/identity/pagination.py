"""List query handling of the management API: ``page[...]``, ``filter[...]`` (deepObject) and ``sort``.

Lists are computed over the JSON representations of the objects, so a filter or sort field is simply a key
of the response items (https://developer.konghq.com/api/konnect/kong-identity/v1/). Bad query parameters give a 400 Problem whose
``invalid_parameters`` entries carry ``source: "query"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from starlette.datastructures import QueryParams

from kongformance.problem_json import InvalidParameter, bad_request, invalid

DEFAULT_PAGE_SIZE = 10
"""Not stated by the document (https://developer.konghq.com/identity/auth-servers/ open question 9); Konnect's other v2 lists use 10."""

_FILTER_KEY = re.compile(r"^filter\[([^\[\]]*)\](?:\[([^\[\]]*)\])?$")


class FilterKind(Enum):
    """What operators a filterable field accepts (the document's filter schemas)."""

    LEGACY_STRING = "legacy"  # LegacyStringFieldFilter: eq, contains
    EQUALS = "equals"  # StringFieldEqualsFilter: eq
    BOOLEAN = "boolean"  # BooleanFieldFilter: filter[field]=true|false
    LABELS = "labels"  # StringFieldEqualsFilter on the labels map: "key:value" or "key", comma-separated


@dataclass(frozen=True)
class ListSpec:
    """The sort attributes and filters one list endpoint supports."""

    sortable: tuple[str, ...]
    filters: Mapping[str, FilterKind]


def _positive_int(query: QueryParams, name: str, default: int, problems: list[InvalidParameter]) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[+-]?\d+", raw.strip()):
        problems.append(invalid(name, "is_integer", "must be an integer", source="query"))
        return default
    value = int(raw)
    if value < 1:
        problems.append(invalid(name, "min", "must be at least 1", source="query", minimum=1))
        return default
    return value


def _label_matches(labels: Any, wanted: str) -> bool:
    if not isinstance(labels, dict):
        return False
    for term in (t.strip() for t in wanted.split(",")):
        if not term:
            continue
        key, sep, value = term.partition(":")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def _filter_predicates(query: QueryParams, spec: ListSpec, problems: list[InvalidParameter]) -> list[Any]:
    preds: list[Any] = []
    for key, raw in query.multi_items():
        if not key.startswith("filter"):
            continue
        m = _FILTER_KEY.match(key)
        if m is None:
            problems.append(invalid(key, "invalid", "is not a valid filter", source="query"))
            continue
        field, op = m.group(1), m.group(2)
        kind = spec.filters.get(field)
        if kind is None:
            problems.append(invalid(key, "unknown_property", "is not a filterable field", source="query"))
            continue
        allowed = {FilterKind.LEGACY_STRING: ("eq", "contains"), FilterKind.BOOLEAN: ("eq",)}.get(
            kind, ("eq",)
        )
        op = op or "eq"
        if op not in allowed:
            problems.append(
                invalid(
                    key,
                    "enum",
                    f"operator must be one of {list(allowed)}",
                    source="query",
                    choices=list(allowed),
                )
            )
            continue
        if kind is FilterKind.BOOLEAN:
            if raw not in ("true", "false"):
                problems.append(invalid(key, "is_boolean", "must be true or false", source="query"))
                continue
            flag = raw == "true"
            preds.append(lambda item, f=field, v=flag: item.get(f) is v)
        elif kind is FilterKind.LABELS:
            preds.append(lambda item, f=field, v=raw: _label_matches(item.get(f), v))
        elif op == "contains":
            preds.append(lambda item, f=field, v=raw: isinstance(item.get(f), str) and v in item[f])
        else:
            preds.append(lambda item, f=field, v=raw: item.get(f) == v)
    return preds


def _sort_keys(
    query: QueryParams, spec: ListSpec, problems: list[InvalidParameter]
) -> list[tuple[str, bool]]:
    raw = query.get("sort")
    if raw is None or raw.strip() == "":
        return []
    keys: list[tuple[str, bool]] = []
    for part in raw.split(","):
        words = part.split()
        if not words:
            problems.append(invalid("sort", "invalid", "contains an empty sort attribute", source="query"))
            continue
        field = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if field not in spec.sortable:
            problems.append(
                invalid(
                    "sort",
                    "enum",
                    f"[{field}] is not a sortable attribute",
                    source="query",
                    choices=list(spec.sortable),
                )
            )
        elif len(words) > 2 or direction not in ("asc", "desc"):
            problems.append(
                invalid("sort", "enum", "order must be asc or desc", source="query", choices=["asc", "desc"])
            )
        else:
            keys.append((field, direction == "desc"))
    return keys


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    def key(item: dict[str, Any]) -> tuple[bool, str]:
        value = item.get(field)
        return (value is None, "" if value is None else str(value))

    return key


def paginate(items: Sequence[dict[str, Any]], query: QueryParams, spec: ListSpec) -> dict[str, Any]:
    """Filter, sort and page ``items``; return the ``{"data": [...], "meta": {"page": ...}}`` body."""
    problems: list[InvalidParameter] = []
    size = _positive_int(query, "page[size]", DEFAULT_PAGE_SIZE, problems)
    number = _positive_int(query, "page[number]", 1, problems)
    predicates = _filter_predicates(query, spec, problems)
    sort_keys = _sort_keys(query, spec, problems)
    if problems:
        raise bad_request(problems)
    selected = [item for item in items if all(p(item) for p in predicates)]
    for field, descending in reversed(sort_keys):
        selected.sort(key=_sort_key(field), reverse=descending)
    start = (number - 1) * size
    return {
        "data": selected[start : start + size],
        "meta": {"page": {"number": number, "size": size, "total": len(selected)}},
    }
