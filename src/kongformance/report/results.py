"""Readers of the files a run writes under reports/: JUnit XML, allure results, the coverage JSON.

Each reader turns one file format into :class:`Observed` test cases keyed the way pytest's JUnit writer
names them (``classname``, ``name``), plus whatever the file says about the run (target, Kong version,
start, duration). Malformed input raises :class:`ReportInputError` with a one-line message naming the file.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kongformance.requirements import Catalogue, CatalogueError, parse_catalogue

TestKey = tuple[str, str]  # (classname, name) as in JUnit XML


class ReportInputError(Exception):
    """The run's results are missing or malformed; the message is one line, fit for the terminal."""


@dataclass
class Observed:
    """What one result file says about one test case."""

    key: TestKey
    outcome: str | None = None
    nodeid: str | None = None
    requirements: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    flow: str | None = None  # the flow the test ran on, when it says (``flow`` property)
    opens: list[str] = field(default_factory=list)  # requirements it observed open (``open`` property)
    unchecked: list[str] = field(default_factory=list)  # requirements it ran but could not check
    message: str = ""
    details: str = ""
    duration: float | None = None


RunMeta = dict[str, Any]  # target, kong_version, run_id, defects, started (ISO 8601), duration (seconds),
# api_calls, unchecked_on_target (coverage JSON only)
RUN_FACTS = ("target", "kong_version", "run_id", "defects")


def junit_key(nodeid: str) -> TestKey:
    """The (classname, name) pytest's JUnit writer gives the test ``nodeid`` (its mangle_test_address)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def meta_key(name: str) -> str | None:
    """``target``, ``kong_version``, ``run_id`` or ``defects`` for a run property named loosely
    (``kongformance.kong-version``)."""
    key = re.sub(r"^(kongformance|kf)[._-]", "", name.strip().lower())
    key = re.sub(r"[\s.-]+", "_", key)
    return key if key in RUN_FACTS else None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# ---------------------------------------------------------------- JUnit XML


def read_junit(path: Path) -> tuple[list[Observed], RunMeta]:
    """Test cases and run facts of a pytest JUnit XML file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ReportInputError(f"{path}: not readable JUnit XML ({_one_line(exc)})") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise ReportInputError(f"{path}: not JUnit XML (root element <{root.tag}>)")
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    meta: RunMeta = {}
    cases: list[Observed] = []
    for suite in suites:
        if suite.get("timestamp") and "started" not in meta:
            meta["started"] = suite.get("timestamp")
        if suite.get("time"):
            meta["duration"] = meta.get("duration", 0.0) + _float(suite.get("time"), path)
        for prop in suite.findall("properties/property"):
            key = meta_key(prop.get("name", ""))
            if key:
                meta[key] = prop.get("value", "")
        cases.extend(_junit_case(case, path) for case in suite.iter("testcase"))
    return cases, meta


def _float(value: str | None, path: Path) -> float:
    try:
        return float(value or 0)
    except ValueError as exc:
        raise ReportInputError(f"{path}: bad time value {value!r}") from exc


def _junit_case(case: ET.Element, path: Path) -> Observed:
    obs = Observed(key=(case.get("classname", ""), case.get("name", "")))
    obs.duration = _float(case.get("time"), path) if case.get("time") else None
    for prop in case.findall("properties/property"):
        if prop.get("name") == "requirement":
            obs.requirements.append(prop.get("value", ""))
        elif prop.get("name") == "deviation":
            obs.deviations.append(prop.get("value", ""))
        elif prop.get("name") == "flow":
            obs.flow = prop.get("value") or None
        elif prop.get("name") in ("open", "unchecked"):  # "<requirement> <observation or why>"
            rid = prop.get("value", "").split(" ", 1)[0]
            (obs.opens if prop.get("name") == "open" else obs.unchecked).append(rid)
    obs.outcome = "passed"
    for tag, outcome in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is None:
            continue
        obs.outcome = outcome
        obs.message = found.get("message", "")
        obs.details = (found.text or "").strip()
        if tag == "skipped" and found.get("type") == "pytest.xfail":
            obs.outcome = "xfailed"
        break
    return obs


# ---------------------------------------------------------------- allure-pytest results


_ALLURE_STATUS = {"passed": "passed", "failed": "failed", "broken": "error", "skipped": "skipped"}


def read_allure(directory: Path) -> tuple[list[Observed], RunMeta]:
    """Test cases of an allure-results directory (``*-result.json``) and its environment.properties."""
    cases: list[Observed] = []
    starts: list[int] = []
    stops: list[int] = []
    for path in sorted(directory.glob("*-result.json")):
        doc = _read_json(path)
        if not isinstance(doc, Mapping) or not isinstance(doc.get("name"), str):
            raise ReportInputError(f"{path}: not an allure result (no 'name')")
        full = str(doc.get("fullName", ""))
        obs = Observed(key=(full.split("#", 1)[0], doc["name"]))
        raw_details = doc.get("statusDetails")
        details: Mapping[str, Any] = raw_details if isinstance(raw_details, Mapping) else {}
        obs.message = str(details.get("message", "") or "")
        obs.details = str(details.get("trace", "") or "")
        obs.outcome = _ALLURE_STATUS.get(str(doc.get("status")), "error")
        if obs.outcome == "skipped" and obs.message.startswith("XFAIL"):
            obs.outcome = "xfailed"  # allure-pytest reports an xfail as skipped, "XFAIL <reason>"
            obs.message = obs.message[len("XFAIL") :].strip().split("\n\n", 1)[0]
        elif obs.outcome == "skipped" and obs.message.startswith("Skipped: "):
            obs.message = obs.message[len("Skipped: ") :]
        for label in doc.get("labels") or []:
            if isinstance(label, Mapping) and label.get("name") == "requirement":
                obs.requirements.append(str(label.get("value", "")))
        if isinstance(doc.get("start"), int) and isinstance(doc.get("stop"), int):
            starts.append(doc["start"])
            stops.append(doc["stop"])
            obs.duration = (doc["stop"] - doc["start"]) / 1000
        cases.append(obs)
    meta: RunMeta = {}
    if starts:
        meta["started"] = datetime.fromtimestamp(min(starts) / 1000, UTC).isoformat()
        meta["duration"] = (max(stops) - min(starts)) / 1000
    env = directory / "environment.properties"
    if env.is_file():
        for line in env.read_text("utf-8", errors="replace").splitlines():
            name, sep, value = line.partition("=")
            key = meta_key(name) if sep and not line.lstrip().startswith("#") else None
            if key:
                meta[key] = value.strip()
    return cases, meta


# ---------------------------------------------------------------- requirements-coverage.json


# a passed test's outcome for one requirement it could not credit (requirements.Coverage.add_outcome)
_TEST_OUTCOME = {"open": "passed", "unchecked": "passed"}


def read_coverage(path: Path) -> tuple[Catalogue, list[Observed], RunMeta]:
    """The run's catalogue, the tests per requirement and the optional ``run`` facts of the coverage JSON."""
    doc = _read_json(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("requirements"), list):
        raise ReportInputError(f"{path}: expected an object with a 'requirements' list")
    try:
        catalogue = parse_catalogue(doc, strict_sources=False)  # older runs wrote text sources
    except CatalogueError as exc:
        raise ReportInputError(f"{path}: {_one_line(exc)}") from exc
    cases: dict[str, Observed] = {}
    for req in doc["requirements"]:
        tests = req.get("tests") or []
        if not isinstance(tests, list):
            raise ReportInputError(f"{path}: 'tests' of {req.get('id')!r} is not a list")
        for entry in tests:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("test"), str):
                raise ReportInputError(f"{path}: a test entry of {req.get('id')!r} has no 'test' node id")
            nodeid = entry["test"]
            obs = cases.setdefault(nodeid, Observed(key=junit_key(nodeid), nodeid=nodeid))
            if req["id"] not in obs.requirements:
                obs.requirements.append(str(req["id"]))
            obs.deviations.extend(
                d for d in _deviation_ids(entry.get("deviations")) if d not in obs.deviations
            )
            outcome = str(entry.get("outcome", ""))
            if outcome == "open":
                obs.opens.append(str(req["id"]))
            elif outcome == "unchecked":
                obs.unchecked.append(str(req["id"]))
            outcome = _TEST_OUTCOME.get(outcome, outcome)
            if obs.outcome is None or outcome == "failed":
                obs.outcome = outcome or None
    run = doc.get("run")
    meta: RunMeta = {}
    if isinstance(run, Mapping):
        for name, value in run.items():
            key = meta_key(str(name)) or (name if name in ("started", "duration") else None)
            if key and value is not None:
                meta[key] = value
        if isinstance(run.get("api_calls"), Mapping):  # the run's API calls, as the terminal counted them
            meta["api_calls"] = dict(run["api_calls"])
        unchecked = run.get("unchecked_on_target")
        if isinstance(unchecked, Mapping):  # requirement -> the capabilities the target lacks for it
            meta["unchecked_on_target"] = {str(k): [str(c) for c in v or ()] for k, v in unchecked.items()}
    return catalogue, list(cases.values()), meta


def _deviation_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return []


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: not readable ({_one_line(exc)})") from exc
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: malformed JSON ({exc.msg} at line {exc.lineno})") from exc


# ---------------------------------------------------------------- evidence.json


def read_evidence(path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Failure evidence per node id and the run id of ``evidence.json`` (report/evidence.py)."""
    doc = _read_json(path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("tests"), Mapping):
        raise ReportInputError(f"{path}: expected an object with a 'tests' mapping")
    tests = {str(k): dict(v) for k, v in doc["tests"].items() if isinstance(v, Mapping)}
    run_id = doc.get("run_id")
    return tests, str(run_id) if run_id else None
