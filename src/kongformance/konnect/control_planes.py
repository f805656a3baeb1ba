"""One Konnect control plane: its ``/v2/control-planes`` record, its data-plane nodes, its core entities.

Core entities (``/v2/control-planes/{id}/core-entities/<path>``) are the reference gateway's Admin API
``/<path>``: the request is handed to the gateway's admin app in-process and its answer passed through, so
what the control plane holds is exactly what the data plane (the gateway's proxy) routes.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kongformance.konnect.guard import Headers, problem

CORE_ENTITIES = "/core-entities"


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ControlPlane:
    """The emulated control plane and what it reports about its one data plane."""

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "kongformance-emulator"
    kong_version: str = "3.15.0.0"
    proxy_urls: list[str] = field(default_factory=list)
    node_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    def record(self, api_url: str) -> dict[str, Any]:
        """The ``ControlPlane`` object of control-planes-v2."""
        host = urlsplit(api_url).netloc
        proxies = []
        for url in self.proxy_urls:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            proxies.append({"host": parts.hostname or "", "port": port, "protocol": parts.scheme})
        return {
            "id": self.id,
            "name": self.name,
            "description": "Konnect emulator control plane (kongformance)",
            "labels": {},
            "config": {
                "control_plane_endpoint": f"http://{host}/cp/{self.id}",
                "telemetry_endpoint": f"http://{host}/tp/{self.id}",
                "cluster_type": "CLUSTER_TYPE_CONTROL_PLANE",
                "auth_type": "pinned_client_certs",
                "cloud_gateway": False,
                "proxy_urls": proxies,
            },
            "created_at": _iso(self.created),
            "updated_at": _iso(self.created),
        }

    def nodes(self) -> dict[str, Any]:
        """``GET .../nodes``: the one data plane, with the Kong version it runs."""
        stamp = int(self.created.timestamp())
        node = {
            "id": self.node_id,
            "version": self.kong_version,
            "hostname": "kongformance-data-plane",
            "last_ping": int(datetime.datetime.now(datetime.UTC).timestamp()),
            "type": "kong-proxy",
            "created_at": stamp,
            "updated_at": stamp,
            "config_hash": "0" * 32,
            "compatibility_status": {"state": "COMPATIBILITY_STATE_FULLY_COMPATIBLE"},
        }
        return {"items": [node], "page": {"total_count": 1}}


def _ok(body: object) -> tuple[int, Headers, bytes]:
    raw = json.dumps(body).encode()
    return 200, [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())], raw


def answer(cp: ControlPlane, api_url: str, method: str, rest: str) -> tuple[int, Headers, bytes] | None:
    """Answer ``/v2/control-planes[...]`` reads; None for core entities (forwarded to the gateway)."""
    if rest in ("", "/"):
        if method != "GET":
            return problem(405, "Method not allowed")
        meta = {"page": {"number": 1, "size": 100, "total": 1}}
        return _ok({"data": [cp.record(api_url)], "meta": meta})
    cp_id, _, below = rest.lstrip("/").partition("/")
    if cp_id != cp.id:
        return problem(404, f"Control plane with ID [{cp_id}] not found")
    below = "/" + below
    if below.startswith(CORE_ENTITIES + "/"):
        return None
    reads = {"/": lambda: cp.record(api_url), "/nodes": cp.nodes}
    if below not in reads:
        return problem(404, "Not found")
    if method != "GET":
        return problem(405, "Method not allowed")  # control-plane writes are not served
    return _ok(reads[below]())
