"""Target settings checked up front: present, well-formed, reachable; one line per problem.

A target that cannot run stops the run before any test (the pytest plugin exits non-zero with these lines),
so a nightly job can never pass green having checked nothing. Settings come from ``--kf-set KEY=VALUE``
first, then the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import httpx

from kongformance.targets.base import TargetUnavailable

REACH_TIMEOUT = 5.0  # seconds for one reachability probe
PROPAGATION_DEADLINE = 30.0  # default seconds for a config change to reach the data plane


class SettingsError(TargetUnavailable):
    """Settings of a target are missing, invalid or unreachable; ``problems`` has one line each."""

    def __init__(self, target: str, problems: Iterable[str]) -> None:
        self.target = target
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def setting(settings: Mapping[str, str], key: str, default: str = "") -> str:
    """``--kf-set`` value of ``key``, else the environment's, else ``default``."""
    return settings.get(key) or os.environ.get(key, default)


def url_problem(name: str, value: str) -> str | None:
    """Why ``value`` is not an absolute http(s) URL (None when it is one)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"{name}: {value!r} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name}: {value!r} is not an http(s) URL with a host"
    return None


def missing_problem(name: str) -> str:
    return f"{name}: missing (set it in the environment or with --kf-set {name}=...)"


def check_required(settings: Mapping[str, str], required: Iterable[str], urls: Iterable[str]) -> list[str]:
    """One line per missing required setting and per URL setting (given or required) that does not parse."""
    problems = [missing_problem(k) for k in required if not setting(settings, k)]
    for key in urls:
        value = setting(settings, key)
        if value:
            problem = url_problem(key, value)
            if problem:
                problems.append(problem)
    return problems


def check_float(settings: Mapping[str, str], key: str, default: float) -> tuple[float, str | None]:
    """A positive number of seconds (``default`` when unset), or the problem line."""
    raw = setting(settings, key)
    if not raw:
        return default, None
    try:
        value = float(raw)
    except ValueError:
        return default, f"{key}: {raw!r} is not a number of seconds"
    if not value > 0:
        return default, f"{key}: must be positive, got {raw!r}"
    return value, None


def propagation_deadline(settings: Mapping[str, str]) -> float:
    """``KF_PROPAGATION_DEADLINE``: seconds the run waits for its config to reach the data plane."""
    value, problem = check_float(settings, "KF_PROPAGATION_DEADLINE", PROPAGATION_DEADLINE)
    if problem:
        raise SettingsError("any", [problem])
    return value


def reach_problem(
    name: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    ok: Iterable[int] | None = None,
    timeout: float = REACH_TIMEOUT,
) -> str | None:
    """Why ``url`` (from setting ``name``) cannot be used: no answer within ``timeout``, or (when ``ok`` is
    given) a status outside it, with a hint for 401/403 (a missing or expired token)."""
    try:
        with httpx.Client(timeout=timeout, verify=False) as http:
            resp = http.get(url, headers=dict(headers or {}))
    except httpx.HTTPError as exc:
        return f"{name}: {url} is unreachable ({type(exc).__name__}: {exc or 'no answer'})"
    if ok is not None and resp.status_code not in tuple(ok):
        hint = " (token missing, invalid or expired?)" if resp.status_code in (401, 403) else ""
        return f"{name}: GET {url} answered {resp.status_code}{hint}"
    return None
