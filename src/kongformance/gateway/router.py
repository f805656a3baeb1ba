"""Route matching as Kong's ``traditional_compatible`` router does it, over a table compiled once per
config change: hosts (exact or wildcard), methods, headers, paths (prefix or ``~`` regex), protocols.

Candidates are ordered like Kong's compat priority: more matching criteria first, plain hosts before
wildcards, more headers first, regex paths before prefix paths (then ``regex_priority``), longer prefix
paths first, then older routes. Each path of a route is its own candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Entity = Mapping[str, Any]


@dataclass(frozen=True)
class Match:
    """The route a request matched, its service, and the path prefix the route matched."""

    route: Entity
    service: Entity | None
    matched_prefix: str  # what strip_path removes ("" when the route has no paths)


@dataclass(frozen=True)
class _Candidate:
    route: Entity
    service: Entity | None
    hosts: tuple[str, ...]
    wildcard_hosts: tuple[re.Pattern[str], ...]
    methods: frozenset[str] | None
    headers: tuple[tuple[str, frozenset[str]], ...]
    prefix: str | None
    regex: re.Pattern[str] | None
    allows_https_only: bool
    allows_http: bool
    allows_https: bool


def _wildcard(host: str) -> re.Pattern[str]:
    if host.startswith("*."):
        return re.compile(r"^[^.]+(?:\.[^.]+)*" + re.escape(host[1:]) + "$", re.IGNORECASE)
    return re.compile("^" + re.escape(host[:-1]) + r"[^:]+$", re.IGNORECASE)  # "example.*"


def _priority(route: Entity, path: str | None) -> tuple[int, ...]:
    criteria = sum(1 for f in ("hosts", "headers", "methods", "paths", "snis") if route.get(f))
    hosts = route.get("hosts") or []
    plain_hosts = 1 if hosts and all("*" not in h for h in hosts) else 0
    headers = len(route.get("headers") or {})
    is_regex = 1 if path is not None and path.startswith("~") else 0
    regex_priority = int(route.get("regex_priority") or 0) if is_regex else 0
    length = len(path) if path is not None and not is_regex else 0
    return (criteria, plain_hosts, headers, is_regex, regex_priority, length)


class Router:
    """A compiled route table; build a new one whenever routes or services change."""

    def __init__(self, routes: Iterable[Entity], services: Mapping[str, Entity]) -> None:
        ordered: list[tuple[tuple[int, ...], int, _Candidate]] = []
        for index, route in enumerate(sorted(routes, key=lambda r: r.get("created_at") or 0)):
            protocols = set(route.get("protocols") or [])
            if not protocols & {"http", "https"}:
                continue
            service_id = (route.get("service") or {}).get("id")
            service = services.get(service_id) if service_id else None
            if service is not None and service.get("enabled") is False:
                continue  # Kong: routes of a disabled service behave as if they did not exist
            hosts = [h.lower() for h in route.get("hosts") or []]
            methods = frozenset(route["methods"]) if route.get("methods") else None
            headers = tuple(
                (name.lower(), frozenset(v.lower() for v in values))
                for name, values in (route.get("headers") or {}).items()
            )
            for path in route.get("paths") or [None]:
                regex = None
                if path is not None and path.startswith("~"):
                    try:
                        regex = re.compile(path[1:])
                    except re.error:
                        continue
                cand = _Candidate(
                    route=route,
                    service=service,
                    hosts=tuple(h for h in hosts if "*" not in h),
                    wildcard_hosts=tuple(_wildcard(h) for h in hosts if "*" in h),
                    methods=methods,
                    headers=headers,
                    prefix=path if regex is None else None,
                    regex=regex,
                    allows_https_only="https" in protocols and "http" not in protocols,
                    allows_http="http" in protocols,
                    allows_https="https" in protocols,
                )
                ordered.append((_priority(route, path), index, cand))
        ordered.sort(key=lambda item: (tuple(-p for p in item[0]), item[1]))
        self._candidates = [c for _, _, c in ordered]

    def __len__(self) -> int:
        return len(self._candidates)

    def match(
        self, scheme: str, method: str, host: str, path: str, headers: Mapping[str, str] | None = None
    ) -> Match | None:
        """The first route (in Kong's priority order) matching the request, or None.

        An https-only route still matches a plain-HTTP request (the proxy answers 426); an http-only route
        does not match an HTTPS request.
        """
        host_l = host.lower()
        hostname = host_l.rsplit(":", 1)[0] if host_l.count(":") == 1 else host_l
        for cand in self._candidates:
            if scheme == "https" and not cand.allows_https:
                continue
            if cand.methods is not None and method not in cand.methods:
                continue
            if (cand.hosts or cand.wildcard_hosts) and not self._host_ok(cand, host_l, hostname):
                continue
            if cand.headers and not self._headers_ok(cand, headers or {}):
                continue
            if cand.regex is not None:
                m = cand.regex.match(path)
                if m is None:
                    continue
                return Match(cand.route, cand.service, path[: m.end()])
            if cand.prefix is not None:
                if not path.startswith(cand.prefix):
                    continue
                return Match(cand.route, cand.service, cand.prefix)
            return Match(cand.route, cand.service, "")
        return None

    @staticmethod
    def _host_ok(cand: _Candidate, host: str, hostname: str) -> bool:
        for h in cand.hosts:
            if h == host or (":" not in h and h == hostname):
                return True
        return any(w.match(hostname) or w.match(host) for w in cand.wildcard_hosts)

    @staticmethod
    def _headers_ok(cand: _Candidate, headers: Mapping[str, str]) -> bool:
        for name, values in cand.headers:
            got = headers.get(name)
            if got is None or got.lower() not in values:
                return False
        return True


def upstream_path(
    route: Entity, service_path: str | None, request_path: str, matched_prefix: str, strip: bool
) -> str:
    """The path sent upstream: Kong's ``path_handling`` v0/v1 join of the service path and request path."""
    base = service_path or "/"
    postfix = request_path[len(matched_prefix) :] if strip else request_path
    if route.get("path_handling") == "v1":
        if strip:
            return (postfix or "/") if base == "/" else base + postfix
        return request_path if base == "/" else base + request_path
    if base.endswith("/"):
        if strip:
            if postfix == "":
                if base == "/":
                    return "/"
                return base if request_path.endswith("/") else base[:-1]
            if postfix.startswith("/"):
                return base[:-1] + postfix
            return base + postfix
        return base + request_path[1:]
    if strip:
        if postfix == "":
            return base + "/" if len(request_path) > 1 and request_path.endswith("/") else base
        if postfix.startswith("/"):
            return base + postfix
        return base + "/" + postfix
    if request_path == "/":
        return base
    return base + request_path
