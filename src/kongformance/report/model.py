"""The compliance report's model: test results, per-requirement verdicts and the run summary.

Verdict of one requirement, from the tests that name it:

- ``fails``: a test failed or errored (red for MUST and KONG requirements, amber for SHOULD);
- ``open``: a test observed what Kong does where no source settles what it should (a registry entry with
  ``kong: open``, or ``record_open``): recorded, never credited;
- ``deviation``: the gateway departed from the requirement in a way recorded in the deviation registry;
- ``conforms``: at least one test passed and none failed;
- ``unchecked``: no test checked it because the target lacks a capability its tests need (each skipped
  with a reason naming the capability, :func:`kongformance.run_checks.lacks_reason`), or the run recorded it
  as unchecked on this target (the coverage JSON's ``run.unchecked_on_target``, the terminal's
  "requirements left unchecked" line);
- ``xfail``: every test that ran was an expected failure;
- ``skipped``: no test ran (with the reasons);
- ``not-covered``: no test names the requirement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kongformance.requirements import Requirement
from kongformance.run_checks import DEPARTURE, lacking_from_reason
from kongformance.sources import Source

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
FAILING = frozenset({"failed", "error"})
VERDICTS = ("fails", "open", "deviation", "conforms", "unchecked", "xfail", "skipped", "not-covered")
VERDICT_LABELS = {
    "fails": "fails",
    "open": "open",
    "deviation": "deviation",
    "conforms": "conforms",
    "unchecked": "unchecked",
    "xfail": "expected failure",
    "skipped": "skipped",
    "not-covered": "not covered",
}


@dataclass(frozen=True)
class TestResult:
    """One test case of the run, its outcome and the requirements it names."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    requirements: tuple[str, ...] = ()
    deviations: tuple[str, ...] = ()
    message: str = ""  # failure message, skip or xfail reason
    details: str = ""  # traceback or longer text
    duration: float | None = None
    evidence: dict[str, Any] | None = None  # failure evidence (report/evidence.py), redacted
    flow: str | None = None  # the flow the test ran on, when its results say (``@pytest.mark.flow``)
    opens: tuple[str, ...] = ()  # requirements it observed open: recorded, not credited
    unchecked: tuple[str, ...] = ()  # requirements it ran for but could not check on this target

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING


@dataclass(frozen=True)
class DeviationNote:
    """A recorded deviation as the report shows it (from the deviation registry)."""

    id: str
    requirement: str
    summary: str
    kong_versions: str
    source: tuple[Source, ...]
    recorded: bool = True  # False: the run named an id the registry does not hold


@dataclass(frozen=True)
class RunInfo:
    """What the run was: where it ran, when and for how long (``None``: not in the results)."""

    target: str | None = None
    kong_version: str | None = None
    started: str | None = None
    duration: float | None = None
    sources: tuple[str, ...] = ()  # the result files the report was built from
    run_id: str | None = None
    defects: str | None = None  # emulator defects switched on for the run (mutation and leak tests)
    api_calls: dict[str, Any] | None = None  # {"total", "by_api", "rate_limited"}: the run's API calls
    unchecked: dict[str, list[str]] = field(default_factory=dict)  # requirement -> capabilities it lacked


@dataclass
class RequirementVerdict:
    """One row of the traceability matrix."""

    requirement: Requirement
    tests: list[TestResult]
    verdict: str
    deviations: list[DeviationNote] = field(default_factory=list)
    lacking: tuple[str, ...] = ()  # verdict unchecked: the capabilities the target lacks for it

    @property
    def severity(self) -> str:
        """red | amber | open | purple | green | unchecked | grey: the colour of the verdict."""
        if self.verdict == "fails":
            return "amber" if self.requirement.level == "SHOULD" else "red"
        colours = {"open": "open", "deviation": "purple", "conforms": "green", "unchecked": "unchecked"}
        return colours.get(self.verdict, "grey")

    @property
    def label(self) -> str:
        """The verdict as the report writes it: ``unchecked (lacks capability db)`` for an unchecked one."""
        if self.verdict == "unchecked":
            return unchecked_label(self.lacking)
        return VERDICT_LABELS[self.verdict]

    @property
    def reasons(self) -> list[str]:
        """Skip and xfail reasons of the tests, without repeats."""
        out = [t.message for t in self.tests if t.outcome in ("skipped", "xfailed") and t.message]
        return list(dict.fromkeys(out))


def deviations_for(rid: str, test: TestResult, departs: Mapping[str, str]) -> list[str]:
    """The deviations ``test`` observed that depart from requirement ``rid``.

    ``departs`` maps a recorded deviation id to the requirement it departs from; an id the registry does
    not know counts against every requirement the test names.
    """
    return [d for d in test.deviations if departs.get(d, rid) == rid]


def lacking(tests: list[TestResult]) -> tuple[str, ...]:
    """The capabilities the skip reasons of ``tests`` name, when every one of them is such a skip (a test
    that ran, or skipped for another reason, makes it empty)."""
    reasons = [lacking_from_reason(t.message) if t.outcome == "skipped" else [] for t in tests]
    if not reasons or not all(reasons):
        return ()
    return tuple(sorted({c for caps in reasons for c in caps}))


def unchecked_label(capabilities: tuple[str, ...] | list[str]) -> str:
    """``unchecked (lacks capability db)``; a recorded departure is named as such."""
    caps = [c for c in capabilities if c != DEPARTURE]
    why = []
    if caps:
        why.append(f"lacks capabilit{'y' if len(caps) == 1 else 'ies'} {', '.join(caps)}")
    if DEPARTURE in capabilities:
        why.append("a recorded departure let its request through")
    return f"unchecked ({'; '.join(why)})" if why else "unchecked"


def verdict_of(rid: str, tests: list[TestResult], departs: Mapping[str, str]) -> str:
    """The verdict of requirement ``rid`` covered by ``tests`` (see the module docstring)."""
    if not tests:
        return "not-covered"
    outcomes = {t.outcome for t in tests}
    if outcomes & FAILING:
        return "fails"
    ran = [t for t in tests if t.outcome in ("passed", "xpassed")]
    if any(rid in t.opens for t in ran):
        return "open"
    credited = [t for t in ran if rid not in t.unchecked]  # (requirements.Coverage.status alike)
    if any(deviations_for(rid, t, departs) for t in credited):
        return "deviation"
    if credited:
        return "conforms"
    if "xfailed" in outcomes:
        return "xfail"
    if ran or lacking(tests):
        return "unchecked"
    return "skipped"


@dataclass
class ComplianceReport:
    """Everything the HTML report shows."""

    run: RunInfo
    rows: list[RequirementVerdict]
    tests: list[TestResult]
    unknown_requirements: list[str] = field(default_factory=list)  # named by tests, not in the catalogue
    departs: dict[str, str] = field(
        default_factory=dict
    )  # recorded deviation id -> requirement it departs from
    history: dict[str, list[str]] = field(default_factory=dict)  # requirement -> last verdicts (history.py)

    def test_counts(self) -> dict[str, int]:
        """passed / failed / error / skipped / xfailed / xpassed / deviations (tests that recorded one)."""
        counts = Counter(t.outcome for t in self.tests)
        out = {o: counts.get(o, 0) for o in OUTCOMES}
        out["deviations"] = sum(1 for t in self.tests if t.deviations)
        return out

    def verdict_counts(self) -> dict[str, int]:
        counts = Counter(r.verdict for r in self.rows)
        return {v: counts.get(v, 0) for v in VERDICTS}

    def uncovered(self) -> list[RequirementVerdict]:
        return [r for r in self.rows if r.verdict == "not-covered"]

    def failing_tests(self) -> list[TestResult]:
        return [t for t in self.tests if t.failing]

    def observed_deviations(self) -> list[tuple[DeviationNote, list[TestResult]]]:
        """Each deviation the run observed, with the tests that observed it."""
        notes: dict[str, DeviationNote] = {}
        seen: dict[str, list[TestResult]] = {}
        for row in self.rows:
            for note in row.deviations:
                notes.setdefault(note.id, note)
        for test in self.tests:
            for dev in test.deviations:
                seen.setdefault(dev, []).append(test)
        return [(notes[d], seen[d]) for d in sorted(seen) if d in notes]

    def readiness(self) -> tuple[int, int]:
        """(MUST requirements that conform or deviate as recorded, MUST requirements in the catalogue)."""
        must = [r for r in self.rows if r.requirement.level == "MUST"]
        return sum(1 for r in must if r.verdict in ("conforms", "deviation")), len(must)
