"""The requirement catalogue: loading, validation of test markers, and coverage of requirements.

Requirement IDs are data (``data/requirements.yaml``). Tests name them with
``@pytest.mark.requirement("RFC6750-3.1-invalid-token", ...)``; the pytest plugin refuses an untagged suite
test or an unknown ID, and reports requirements that no test covers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kongformance.sources import Source, SourceError, parse_sources

LEVELS = ("MUST", "SHOULD", "KONG")
FLOWS = (
    "all",
    "guard",
    "issuer",
    "oidc-bearer",
    "oidc-introspection",
    "oidc-kong-oauth2",
    "oauth2",
    "oauth2-introspection",
    "upstream-oauth",
    "jwt",
)


class CatalogueError(ValueError):
    """The catalogue file is malformed (duplicate ID, unknown level or flow, missing field)."""


@dataclass(frozen=True)
class Requirement:
    """One checkable statement and where it comes from."""

    id: str
    statement: str
    source: tuple[Source, ...]  # links a reader can open (kongformance.sources)
    level: str
    flows: tuple[str, ...]


@dataclass
class Catalogue:
    """All requirements by ID, in file order."""

    requirements: dict[str, Requirement]

    def __contains__(self, rid: object) -> bool:
        return rid in self.requirements

    def __getitem__(self, rid: str) -> Requirement:
        return self.requirements[rid]

    def __len__(self) -> int:
        return len(self.requirements)

    def unknown(self, ids: Iterable[str]) -> list[str]:
        """The IDs among ``ids`` that the catalogue does not define."""
        return [i for i in ids if i not in self.requirements]

    def off_flow(self, ids: Iterable[str], flow: str) -> list[str]:
        """The IDs among ``ids`` whose ``flows:`` neither list ``flow`` nor ``all`` (credited on the wrong flow)."""
        return [i for i in ids if i in self.requirements and not {"all", flow} & set(self[i].flows)]


def parse_catalogue(doc: Any, *, strict_sources: bool = True) -> Catalogue:
    """Build a catalogue from the parsed YAML document, checking every entry.

    ``strict_sources=False`` accepts the plain-text sources of results written by older versions."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("requirements"), list):
        raise CatalogueError("the catalogue must be a mapping with a 'requirements' list")
    out: dict[str, Requirement] = {}
    for n, raw in enumerate(doc["requirements"]):
        if not isinstance(raw, Mapping):
            raise CatalogueError(f"entry {n} is not a mapping")
        missing = [k for k in ("id", "statement", "source", "level", "flows") if not raw.get(k)]
        if missing:
            raise CatalogueError(f"entry {n} ({raw.get('id')!r}) lacks {', '.join(missing)}")
        rid = str(raw["id"])
        if rid in out:
            raise CatalogueError(f"duplicate requirement id {rid!r}")
        if raw["level"] not in LEVELS:
            raise CatalogueError(f"{rid}: level must be one of {LEVELS}, got {raw['level']!r}")
        flows = tuple(str(f) for f in raw["flows"])
        bad = [f for f in flows if f not in FLOWS]
        if bad:
            raise CatalogueError(f"{rid}: unknown flows {bad}")
        try:
            sources = parse_sources(raw["source"], strict=strict_sources)
        except SourceError as exc:
            raise CatalogueError(f"{rid}: {exc}") from None
        out[rid] = Requirement(rid, str(raw["statement"]), sources, str(raw["level"]), flows)
    return Catalogue(out)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load the catalogue shipped with the package (or the file at ``path``)."""
    if path is None:
        text = resources.files("kongformance").joinpath("data/requirements.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    return parse_catalogue(yaml.safe_load(text))


def _shipped_departs() -> dict[str, str]:
    """Recorded deviation id -> the requirement it departs from (data/deviations.yaml), loaded once."""
    global _DEPARTS
    if _DEPARTS is None:
        from kongformance.deviations import load_registry  # deviations.py does not import this module

        _DEPARTS = {d.id: d.requirement for d in load_registry().deviations}
    return _DEPARTS


_DEPARTS: dict[str, str] | None = None


@dataclass
class Coverage:
    """Which tests covered which requirement in one run, with outcomes and observed deviations."""

    catalogue: Catalogue
    tests: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    collected: dict[str, list[str]] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)  # target, kong_version, started, duration
    departs: dict[str, str] | None = None  # deviation id -> requirement (default: the shipped registry)

    def add_collected(self, nodeid: str, ids: Iterable[str]) -> None:
        for rid in ids:
            self.collected.setdefault(rid, []).append(nodeid)

    def add_outcome(
        self,
        nodeid: str,
        ids: Iterable[str],
        outcome: str,
        deviations: Iterable[str] = (),
        *,
        open_: Mapping[str, str] | None = None,
        unchecked: Iterable[str] = (),
    ) -> None:
        """One test's outcome for each requirement it names.

        ``open_`` maps a requirement to the observation the test recorded where Kong's behaviour is unknown
        (verdict *open*); ``unchecked`` names requirements whose check could not run on this target. A passed
        test credits neither: its outcome for them becomes ``open`` / ``unchecked``.
        """
        devs = ",".join(deviations)
        opens = dict(open_ or {})
        skipped = set(unchecked)
        for rid in ids:
            out = outcome
            if outcome == "passed" and rid in opens:
                out = "open"
            elif outcome == "passed" and rid in skipped:
                out = "unchecked"
            run = {"test": nodeid, "outcome": out, "deviations": devs}
            if rid in opens:
                run["observation"] = opens[rid]
            self.tests.setdefault(rid, []).append(run)

    def uncovered(self) -> list[str]:
        """Requirements that no collected test names."""
        return [rid for rid in self.catalogue.requirements if rid not in self.collected]

    def status(self, rid: str) -> str:
        """passed | failed | open | deviation | unchecked | skipped | not-run | uncovered, for one requirement.

        Only a check that executed credits a requirement: *open* (Kong's behaviour unknown, observation
        recorded) and *unchecked* (the check could not run on this target; every requirement the run lists
        under ``run["unchecked_on_target"]``, as the HTML report does) are never counted as passed.
        """
        if rid not in self.collected:
            return "uncovered"
        runs = self.tests.get(rid, [])
        if not runs:
            return "not-run"
        outcomes = {r["outcome"] for r in runs}
        if "failed" in outcomes:
            return "failed"
        if rid in (self.run.get("unchecked_on_target") or {}):  # no test could check it on this target
            return "unchecked"
        if "open" in outcomes:
            return "open"
        # one definition with the HTML report (report/model.py verdict_of): a passing test's deviation
        # counts only against the requirement it departs from
        departs = self.departs if self.departs is not None else _shipped_departs()
        ran = [r for r in runs if r["outcome"] == "passed" and r["deviations"]]
        if any(departs.get(d, rid) == rid for r in ran for d in r["deviations"].split(",") if d):
            return "deviation"
        if "passed" in outcomes:
            return "passed"
        if "unchecked" in outcomes:
            return "unchecked"
        return "skipped"

    def to_json(self) -> dict[str, Any]:
        reqs = []
        for rid, req in self.catalogue.requirements.items():
            reqs.append(
                {
                    "id": rid,
                    "statement": req.statement,
                    "source": [s.to_json() for s in req.source],
                    "level": req.level,
                    "flows": list(req.flows),
                    "status": self.status(rid),
                    "tests": self.tests.get(rid, []),
                }
            )
        return {"run": dict(self.run), "requirements": reqs, "uncovered": self.uncovered()}

    def write(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=False), "utf-8")
