"""Whether a run checked what it had to: capability skips, unchecked requirements, the run's verdict.

A run fails closed. Besides failing tests, it exits non-zero (:data:`EXIT_UNCHECKED`) when

- every selected test skipped (the run checked nothing), or
- a MUST requirement credited by a *selected* test was checked by no executed test although this target
  could check it.

The rule, precisely: a requirement is *checkable here* when some selected test crediting it did not skip for
a lacking capability, i.e. its ``@pytest.mark.needs(...)`` capabilities (and those its fixtures ask for) are
all present on the target. It is *checked* when some test crediting it ran (passed or failed). Requirements
of deselected tests (``-k``, ``-m``, node ids) are not asked for. Requirements no selected test could check
here are listed with the capabilities they lack ("unchecked on this target").

Skips for a lacking capability carry a reason made by :func:`lacks_reason` (``... lacks capability
virtual_clock: ...``); this module reads the capability back from that reason, so fixture-level skips
(session fixtures cannot tag the test) count as well. A route variant the profile leaves out for this Kong
version is a capability too (``kong_version``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kongformance.requirements import Catalogue

EXIT_UNCHECKED = 6  # pytest's own codes are 0-5
CAPABILITIES = (
    "virtual_clock",
    "issuer_control",
    "upstream_log",
    "db",
    "kong_version",
    "owns_gateway",
    "trusted_proxy",
)
_CAP = "(?:" + "|".join(CAPABILITIES) + ")"
_LACKS = re.compile(rf"lacks (?:capabilit(?:y|ies) )?({_CAP}(?:, {_CAP})*)\b")


def lacks_reason(capabilities: Iterable[str], why: str = "", *, target: str = "") -> str:
    """The skip reason of a test that needs ``capabilities`` the target lacks (``target``: its name)."""
    caps = list(capabilities)
    noun = "capability" if len(caps) == 1 else "capabilities"
    who = f"target {target}" if target else "this target"
    return f"{who} lacks {noun} {', '.join(caps)}" + (f": {why}" if why else "")


def lacking_from_reason(reason: str) -> list[str]:
    """The capabilities a skip reason names (``lacks capability C``, as :func:`lacks_reason` writes it, or
    ``lacks C`` for a known capability); empty for any other skip."""
    match = _LACKS.search(reason)
    return match.group(1).split(", ") if match else []


DEPARTURE = "recorded_departure"  # why a requirement went unchecked when no capability was missing


@dataclass
class Reported:
    requirements: list[str]
    executed: bool = False
    lacking: list[str] = field(default_factory=list)
    skipped: bool = False
    unchecked: dict[str, list[str]] = field(default_factory=dict)  # requirement -> capabilities it lacked

    def view(self, rid: str) -> tuple[bool, list[str]]:
        """(ran and checked ``rid``, capabilities lacked for it) for one requirement this test credits."""
        if rid in self.unchecked:  # the test ran but could not check this requirement here
            return False, self.unchecked[rid]
        return self.executed, self.lacking


@dataclass
class RunChecks:
    """What each reported test credited, whether it ran, and which capabilities it lacked."""

    catalogue: Catalogue
    tests: dict[str, Reported] = field(default_factory=dict)

    def record(
        self,
        nodeid: str,
        requirements: Iterable[str],
        outcome: str,
        skip_reason: str = "",
        unchecked: Iterable[str] = (),
    ) -> None:
        """One report of a test (setup or call phase). ``unchecked``: ``"<requirement> <reason>"`` entries of a
        test that ran but could not check that requirement here (user property ``unchecked``)."""
        rec = self.tests.setdefault(nodeid, Reported(list(dict.fromkeys(requirements))))
        for entry in unchecked:
            rid, _, why = entry.partition(" ")
            # no capability named: a recorded departure of Kong's let the request through, so the test could
            # not check ``rid`` on any target; that is not a selected test the target failed to run
            rec.unchecked[rid] = lacking_from_reason(why) or [DEPARTURE]
            if rid not in rec.requirements:
                rec.requirements.append(rid)
        if outcome in ("passed", "failed"):
            rec.executed = True
        elif outcome == "skipped":
            rec.skipped = True
            rec.lacking = lacking_from_reason(skip_reason)

    def all_skipped(self) -> bool:
        return bool(self.tests) and not any(r.executed for r in self.tests.values())

    def _by_requirement(self) -> dict[str, list[tuple[bool, list[str]]]]:
        out: dict[str, list[tuple[bool, list[str]]]] = {}
        for rec in self.tests.values():
            for rid in rec.requirements:
                out.setdefault(rid, []).append(rec.view(rid))
        return out

    def unchecked_here(self) -> dict[str, list[str]]:
        """Requirements no selected test could check on this target -> the capabilities their tests lack."""
        out: dict[str, list[str]] = {}
        for rid, views in self._by_requirement().items():
            if any(checked for checked, _ in views) or not all(lacking for _, lacking in views):
                continue
            out[rid] = sorted({c for _, lacking in views for c in lacking})
        return out

    def must_unchecked(self) -> list[str]:
        """MUST requirements a selected test could check here that no executed test checked."""
        out = []
        for rid, views in self._by_requirement().items():
            if rid not in self.catalogue or self.catalogue[rid].level != "MUST":
                continue
            if not any(checked for checked, _ in views) and any(not lacking for _, lacking in views):
                out.append(rid)
        return out

    def verdict(self) -> list[str]:
        """Why the run must fail although no test failed (empty when it checked what it had to)."""
        problems = []
        if self.all_skipped():
            problems.append(
                f"every one of the {len(self.tests)} selected tests skipped: the run checked nothing"
            )
        missing = self.must_unchecked()
        if missing:
            problems.append(
                f"{len(missing)} MUST requirement(s) this target can check were checked by no test that ran: "
                + ", ".join(missing)
            )
        return problems
