"""Defects: named, documented departures from Kong's behaviour, used by the mutation check.

A defect is data. Each component (gateway, issuer) declares its catalogue once; code checks a switch in
exactly one place (``if defects.on("accept_expired_token"): ...``). All switches are off unless asked
for, at start-up (``--defect NAME``, ``KONGFORMANCE_DEFECTS=a,b``) or through the control API.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    """One switchable departure from the documented behaviour."""

    name: str
    component: str  # "gateway" or "issuer"
    summary: str  # what the broken component does instead
    departs_from: str  # the document and section whose behaviour it breaks (https://developer.konghq.com/plugins/openid-connect/#jwt-access-token-authentication-flow, RFC 7662 2.2...)


class UnknownDefect(KeyError):
    """Raised when a switch names no defect of the component's catalogue."""


class DefectSwitches:
    """The set of defects turned on for one component (thread-safe)."""

    def __init__(self, catalogue: Mapping[str, Defect], enabled: Iterable[str] = ()) -> None:
        self.catalogue = dict(catalogue)
        self._on: set[str] = set()
        self._lock = threading.Lock()
        for name in enabled:
            self.enable(name)

    def on(self, name: str) -> bool:
        """Whether defect ``name`` is switched on. Naming an unknown defect is a programming error."""
        if name not in self.catalogue:
            raise UnknownDefect(name)
        return name in self._on

    def enable(self, name: str) -> None:
        if name not in self.catalogue:
            raise UnknownDefect(name)
        with self._lock:
            self._on.add(name)

    def disable(self, name: str) -> None:
        if name not in self.catalogue:
            raise UnknownDefect(name)
        with self._lock:
            self._on.discard(name)

    def clear(self) -> None:
        with self._lock:
            self._on.clear()

    def enabled(self) -> list[str]:
        return sorted(self._on)


def catalogue_of(*defects: Defect) -> dict[str, Defect]:
    """Build a catalogue, refusing duplicate names."""
    out: dict[str, Defect] = {}
    for d in defects:
        if d.name in out:
            raise ValueError(f"duplicate defect {d.name!r}")
        out[d.name] = d
    return out


def from_environment(component: str, catalogue: Mapping[str, Defect]) -> list[str]:
    """Defect names for ``component`` listed in ``KONGFORMANCE_DEFECTS`` (names of other components are ignored)."""
    raw = os.environ.get("KONGFORMANCE_DEFECTS", "")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    return [n for n in names if n in catalogue]
