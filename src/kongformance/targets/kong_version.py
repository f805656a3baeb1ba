"""The data plane's Kong version, read from the gateway instead of assumed.

Sources, first that answers wins:

- Konnect: ``GET /v2/control-planes/{id}/nodes`` (``items[].version`` of the node that pinged last;
  Kong's OpenAPI ``control-planes-config-v2.yaml``, operation ``list-dataplane-nodes``);
- an Admin API: ``GET /`` (``version``);
- the proxy: the ``Server: kong/<version>`` header Kong sets on responses it generates itself (such as its
  404 "no Route matched"), or ``Via: [1.1 ]kong/<version>`` on proxied ones.

A version the user gave that disagrees (major.minor) with the one read is a one-line warning; the read
version is used, because it is what the data plane really runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

KONG_TOKEN = re.compile(r"\bkong/(\d+\.\d+(?:\.\d+)*)", re.IGNORECASE)
TIMEOUT = 5.0


@dataclass(frozen=True)
class ReadVersion:
    """A version and where it was read (``GET /``, ``Server header``...)."""

    version: str
    source: str

    @property
    def minor(self) -> str:
        return minor_of(self.version)


def minor_of(version: str) -> str:
    """``3.10.0.2`` -> ``3.10``."""
    return ".".join(version.split(".")[:2])


def from_headers(headers: Mapping[str, str]) -> ReadVersion | None:
    """The version in a ``Server`` or ``Via`` header naming ``kong/<version>``."""
    for name in ("Server", "Via"):
        match = KONG_TOKEN.search(headers.get(name, "") or "")
        if match:
            return ReadVersion(match.group(1), f"the proxy's {name} header")
    return None


def from_proxy(http: httpx.Client, proxy_url: str) -> ReadVersion | None:
    try:
        resp = http.get(proxy_url.rstrip("/") + "/", headers={"X-KF-Probe": "kong-version"})
    except httpx.HTTPError:
        return None
    return from_headers(resp.headers)


def from_admin(http: httpx.Client, admin_url: str, headers: Mapping[str, str]) -> ReadVersion | None:
    try:
        resp = http.get(admin_url.rstrip("/") + "/", headers=dict(headers))
        doc: Any = resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("version"), str) and doc["version"]:
        return ReadVersion(doc["version"], f"GET {admin_url.rstrip('/')}/")
    return None


def from_konnect_nodes(
    http: httpx.Client, control_plane_url: str, headers: Mapping[str, str]
) -> ReadVersion | None:
    """``control_plane_url`` is ``<api>/v2/control-planes/<id>``."""
    url = control_plane_url.rstrip("/") + "/nodes"
    try:
        resp = http.get(url, headers=dict(headers))
        doc: Any = resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    items = doc.get("items") if isinstance(doc, dict) else None
    nodes = [
        n for n in items or [] if isinstance(n, dict) and isinstance(n.get("version"), str) and n["version"]
    ]
    if not nodes:
        return None
    latest = max(nodes, key=lambda n: n.get("last_ping") or 0)
    return ReadVersion(str(latest["version"]), "GET /v2/control-planes/{id}/nodes")


def read_kong_version(
    *,
    proxy_url: str,
    admin_url: str | None = None,
    admin_headers: Mapping[str, str] | None = None,
    konnect_control_plane_url: str | None = None,
    http: httpx.Client | None = None,
) -> ReadVersion | None:
    """The first version any source gives (Konnect nodes, Admin API, proxy headers), or None."""
    client = http or httpx.Client(timeout=TIMEOUT, verify=False)
    try:
        read = None
        if konnect_control_plane_url:
            read = from_konnect_nodes(client, konnect_control_plane_url, admin_headers or {})
        elif admin_url:
            read = from_admin(client, admin_url, admin_headers or {})
        return read or from_proxy(client, proxy_url)
    finally:
        if http is None:
            client.close()


def reconcile(given: str | None, read: ReadVersion | None, default: str) -> tuple[str, str | None]:
    """The major.minor version to use and a one-line warning when ``given`` disagrees with ``read``."""
    if read is None:
        chosen = given or default
        why = "given" if given else "assumed"
        return chosen, f"kongformance: could not read the data plane's Kong version; using {chosen} ({why})"
    if given and minor_of(given) != read.minor:
        return read.minor, (
            f"kongformance: Kong version {given} was given but the data plane runs {read.version} "
            f"(from {read.source}); using {read.minor}"
        )
    return read.minor, None
