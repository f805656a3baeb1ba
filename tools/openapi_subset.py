"""Cut Kong's control-planes-config-v2 OpenAPI document down to the operations the Konnect emulator serves.

    python tools/openapi_subset.py /work/shared/reference/konnect-openapi/control-planes-config-v2.yaml \
        src/kongformance/reference/konnect-openapi/control-planes-config-v2.subset.yaml

Keeps the listed paths verbatim and every component they reference (transitively); nothing is rewritten.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

CP = "/control-planes/{controlPlaneId}"
PATHS = [
    f"{CP}/nodes",
    f"{CP}/core-entities/services",
    f"{CP}/core-entities/services/{{ServiceId}}",
    f"{CP}/core-entities/services/{{ServiceId}}/routes",
    f"{CP}/core-entities/services/{{ServiceId}}/plugins",
    f"{CP}/core-entities/routes",
    f"{CP}/core-entities/routes/{{RouteId}}",
    f"{CP}/core-entities/routes/{{RouteId}}/plugins",
    f"{CP}/core-entities/plugins",
    f"{CP}/core-entities/plugins/{{PluginId}}",
    f"{CP}/core-entities/consumers",
    f"{CP}/core-entities/consumers/{{ConsumerId}}",
    f"{CP}/core-entities/consumers/{{ConsumerIdForNestedEntities}}/jwt",
    f"{CP}/core-entities/consumers/{{ConsumerIdForNestedEntities}}/jwt/{{JWTId}}",
]


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            out.add(ref)
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def subset(doc: dict[str, Any]) -> dict[str, Any]:
    paths = {p: doc["paths"][p] for p in PATHS}
    components: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    todo: set[str] = set()
    _refs(paths, todo)
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = doc["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        _refs(node, todo)
    components["securitySchemes"] = doc["components"]["securitySchemes"]
    keep: dict[str, Any] = {k: doc[k] for k in ("openapi", "info", "servers", "security") if k in doc}
    return {**keep, "paths": paths, "components": components}


def main(source: str, target: str) -> int:
    with open(source, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    header = (
        "# Subset of Kong's control-planes-config-v2 OpenAPI document (operations the Konnect emulator serves),\n"
        "# cut by tools/openapi_subset.py; source: Kong/developer.konghq.com\n"
        "# api-specs/konnect/control-planes-config/v2/openapi.yaml (see info.x-oas-source).\n"
    )
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(header)
        yaml.safe_dump(subset(doc), fh, sort_keys=False, allow_unicode=True, width=120)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
