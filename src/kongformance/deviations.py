"""The deviation registry: Kong's documented departures from the RFCs, keyed by Kong version and requirement.

A suite test states what the RFC requires and whether the gateway conformed
(``deviations.check(requirement, conforms, detail, flow=...)`` through the fixture). When a recorded
deviation applies and the gateway departs, the test reports a deviation instead of failing; when a recorded
deviation no longer happens, the test fails so the registry is updated.

Each entry says what Kong does instead (``kong:``), so the test asserts Kong's behaviour exactly:
``proxied`` (the request reaches the upstream, 200), ``refused`` (the flow's documented refusal: status, body,
challenge, nothing proxied) or ``open`` (no Kong source settles it: the observation is recorded and shown as
*open*, never counted as a pass of the requirement).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kongformance.sources import Source, SourceError, parse_sources

KONG_BEHAVIOURS = ("proxied", "refused", "open")
_BOUND = re.compile(r"^\s*(>=|<=|>|<|==)\s*(\d+)(?:\.(\d+))?\s*$")


class RegistryError(ValueError):
    """The registry file is malformed."""


def _bounds(spec: str) -> list[tuple[str, tuple[int, int]]]:
    """``">=3.4,<3.11"`` as [(">=", (3, 4)), ("<", (3, 11))]; raises on a malformed bound."""
    out = []
    for part in spec.split(","):
        if not part.strip() and spec.strip():
            raise RegistryError(f"empty version bound in {spec!r}")
        if not part.strip():
            continue
        m = _BOUND.match(part)
        if not m:
            raise RegistryError(f"bad version bound {part!r}")
        out.append((m.group(1), (int(m.group(2)), int(m.group(3) or 0))))
    return out


def _version_ok(spec: str, version: tuple[int, int]) -> bool:
    for op, bound in _bounds(spec):
        ok = {
            ">=": version >= bound,
            "<=": version <= bound,
            ">": version > bound,
            "<": version < bound,
            "==": version == bound,
        }[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Deviation:
    """One recorded departure."""

    id: str
    requirement: str
    flows: tuple[str, ...]
    kong_versions: str
    summary: str
    source: tuple[Source, ...]
    kong: str = ""  # one of KONG_BEHAVIOURS (required in the registry file)

    @property
    def open(self) -> bool:
        """Kong's behaviour is unknown: the observation is recorded, the requirement is not credited."""
        return self.kong == "open"

    def applies(self, requirement: str, flow: str, version: tuple[int, int]) -> bool:
        return (
            self.requirement == requirement
            and flow in self.flows
            and _version_ok(self.kong_versions, version)
        )


class DeviationRegistry:
    """All recorded deviations."""

    def __init__(self, deviations: Iterable[Deviation]) -> None:
        self.deviations = list(deviations)
        ids = [d.id for d in self.deviations]
        if len(ids) != len(set(ids)):
            raise RegistryError("duplicate deviation ids")

    def find(self, requirement: str, flow: str, version: tuple[int, int]) -> Deviation | None:
        return next((d for d in self.deviations if d.applies(requirement, flow, version)), None)

    def check_requirements(self, known: Iterable[str]) -> list[str]:
        """Deviation ids whose requirement the catalogue does not define."""
        k = set(known)
        return [d.id for d in self.deviations if d.requirement not in k]


def parse_registry(doc: Any) -> DeviationRegistry:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("deviations"), list):
        raise RegistryError("the registry must be a mapping with a 'deviations' list")
    out = []
    for raw in doc["deviations"]:
        try:
            dev = Deviation(
                id=str(raw["id"]),
                requirement=str(raw["requirement"]),
                flows=tuple(str(f) for f in raw["flows"]),
                kong_versions=str(raw.get("kong_versions", "")),
                summary=str(raw["summary"]),
                source=parse_sources(raw["source"]),
                kong=str(raw["kong"]),
            )
        except (KeyError, TypeError, SourceError) as exc:
            raise RegistryError(f"bad deviation entry {raw!r}: {exc}") from exc
        if dev.kong not in KONG_BEHAVIOURS:
            raise RegistryError(f"{dev.id}: kong must be one of {KONG_BEHAVIOURS}, got {dev.kong!r}")
        _bounds(dev.kong_versions)  # validates the bounds
        out.append(dev)
    return DeviationRegistry(out)


def load_registry(path: str | Path | None = None) -> DeviationRegistry:
    if path is None:
        text = resources.files("kongformance").joinpath("data/deviations.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return parse_registry(yaml.safe_load(text))


class DeviationVanished(AssertionError):
    """A recorded deviation did not happen: the gateway now conforms, update the registry."""


class RequirementViolated(AssertionError):
    """The gateway departed from a requirement and no deviation is recorded for it."""


def judge(
    registry: DeviationRegistry,
    requirement: str,
    flow: str,
    version: tuple[int, int],
    conforms: bool,
    detail: str,
) -> Deviation | None:
    """The verdict for one observation: the deviation observed (or None), or raise on failure."""
    dev = registry.find(requirement, flow, version)
    if dev is not None and dev.open:
        return dev  # Kong's behaviour is unknown: either observation is recorded, neither is credited
    if dev is None:
        if not conforms:
            raise RequirementViolated(f"{requirement} ({flow}): {detail}")
        return None
    if conforms:
        raise DeviationVanished(
            f"recorded deviation {dev.id!r} ({requirement}, {flow}, Kong {version[0]}.{version[1]}) no longer "
            f"happens: {detail}. Update src/kongformance/data/deviations.yaml."
        )
    return dev
