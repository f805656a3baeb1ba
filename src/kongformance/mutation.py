"""The mutation check: the suites must fail against every defect of the reference gateway and issuer emulator.

A suite that passes against anything proves nothing. For each defect (listed dynamically from the
components' control APIs, ``GET /_emulator/defects``) the check switches it on through the control API
(``PUT /_emulator/defects``), drops the gateway's plugin caches, runs the suites with ``-x`` against the
already set-up stack (``--kf-state-file``: no new stack, no new profile), and switches it off again. A defect
is *caught* when pytest reports failed tests. Stacks are started once per job; jobs run in parallel threads,
each driving pytest subprocesses over its share of the defects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kongformance.report.redaction import redact
from kongformance.targets import TargetOptions
from kongformance.targets.setup import RunSetup, RunState


@dataclass(frozen=True)
class DefectRef:
    """One defect and the control URL of the component that owns it."""

    name: str
    component: str
    control_url: str  # .../_emulator


@dataclass
class Verdict:
    defect: DefectRef
    caught: bool
    exit_code: int
    seconds: float
    first_failure: str = ""


@dataclass
class MutationReport:
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(v.caught for v in self.verdicts) / len(self.verdicts) if self.verdicts else 1.0

    def survivors(self) -> list[str]:
        return [v.defect.name for v in self.verdicts if not v.caught]

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "defects": len(self.verdicts),
            "survivors": self.survivors(),
            "verdicts": [
                {
                    "defect": v.defect.name,
                    "component": v.defect.component,
                    "caught": v.caught,
                    "exit_code": v.exit_code,
                    "seconds": round(v.seconds, 2),
                    "first_failure": v.first_failure,
                }
                for v in self.verdicts
            ],
        }


def list_defects(state: RunState, http: httpx.Client) -> list[DefectRef]:
    """Every defect of the gateway and the issuer, from their control APIs."""
    out: list[DefectRef] = []
    for component, base in (("gateway", state.stack.admin_url), ("issuer", state.stack.identity_url)):
        control = base.rstrip("/") + "/_emulator"
        resp = http.get(control + "/defects")
        resp.raise_for_status()
        doc = resp.json()
        entries = doc.get("catalogue") or doc.get("available") or []
        out.extend(DefectRef(str(e["name"]), component, control) for e in entries)
    return out


def switch(http: httpx.Client, defect: DefectRef | None, refs: Iterable[DefectRef]) -> None:
    """Turn ``defect`` on (everything else off) on both components; ``None`` turns everything off."""
    for control in sorted({r.control_url for r in refs}):
        names = [defect.name] if defect is not None and defect.control_url == control else []
        http.put(control + "/defects", json={"enabled": names}).raise_for_status()
    for control in sorted({r.control_url for r in refs if r.component == "gateway"}):
        http.delete(control + "/caches")


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return redact(line[:200])  # goes into reports/mutation.json and the CI log
    return ""


OPTION_PREFIX = "option_"

# defect name prefix (after OPTION_PREFIX) -> suite files most likely to catch it (tried first; the whole suite follows if not)
LIKELY_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("oidc_kong_oauth2", ("test_kong_oauth2*.py",)),
    ("oidc_introspection", ("test_openid_connect_introspection*.py",)),
    ("oidc_cache_introspection", ("test_openid_connect_introspection*.py",)),
    ("oidc_", ("test_openid_connect_bearer*.py", "test_negative_*.py")),
    ("jwt_", ("test_jwt*.py", "test_negative_*.py")),
    ("introspection_", ("test_oauth2_introspection*.py",)),
    ("identity_", ("test_issuer*.py", "test_claim_templating.py")),
    ("upstream_oauth_", ("test_upstream_oauth*.py",)),
    ("oauth2_", ("test_kong_oauth2*.py", "test_oauth2*.py")),
    (
        "introspect_",
        ("test_issuer*.py", "test_openid_connect_introspection*.py", "test_oauth2_introspection*.py"),
    ),
)
CORE_FILES = ("test_gateway_*.py", "test_guard.py")
ISSUER_FILES = ("test_issuer*.py",)


def likely_targets(defect: DefectRef, suites: Path, known: dict[str, str]) -> list[str]:
    """Node ids / files to try first for ``defect``: the test that caught it last time, then likely files."""
    out: list[str] = []
    if defect.name in known:
        out.append(known[defect.name])
    name = defect.name.removeprefix(OPTION_PREFIX)  # option_<plugin>_...: a profile option misapplied
    patterns = next((files for prefix, files in LIKELY_FILES if name.startswith(prefix)), None)
    if patterns is None:
        patterns = ISSUER_FILES if defect.component == "issuer" else CORE_FILES
    for pattern in patterns:
        out.extend(str(p) for p in sorted(suites.glob(pattern)))
    return list(dict.fromkeys(out))


def known_killers(path: Path) -> dict[str, str]:
    """defect -> node id that caught it, from an earlier ``mutation.json`` (empty when there is none)."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for v in doc.get("verdicts", []):
        line = str(v.get("first_failure", ""))
        if v.get("caught") and line.startswith("FAILED "):
            out[str(v["defect"])] = line.split(" ", 2)[1]
    return out


def run_suites(
    state_file: Path, suites: Path, extra: Sequence[str] = (), targets: Sequence[str] = ()
) -> tuple[int, str]:
    """One pytest run against the set-up stack (``targets`` or the whole suite), stopping at the first failure."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *(targets or [str(suites)]),
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "--kf-state-file",
        str(state_file),
        "--kf-no-reports",
        "--kf-hypothesis-profile",
        "nightly",
        *extra,
    ]
    env = {**os.environ, "KF_HYPOTHESIS_SEED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(suites.parent))
    return proc.returncode, proc.stdout + proc.stderr


def judge_defect(
    state_file: Path, suites: Path, defect: DefectRef, known: dict[str, str], extra: Sequence[str]
) -> tuple[int, str]:
    """Likely tests first; the whole suite only when they did not catch the defect."""
    code, output = 0, ""
    first = likely_targets(defect, suites, known)
    if first:
        code, output = run_suites(state_file, suites, extra, first)
    if code != 1:
        code, output = run_suites(state_file, suites, extra)
    return code, output


def _job(
    defects: list[DefectRef],
    suites: Path,
    report: MutationReport,
    lock: threading.Lock,
    extra: Sequence[str],
    known: dict[str, str],
) -> None:
    lock_dir = tempfile.mkdtemp(prefix="kongformance-mutation-")
    setup = RunSetup("local", TargetOptions(), lock_dir)
    state = setup.start()
    state_file = Path(lock_dir) / "state.json"
    state_file.write_text(state.to_json(), "utf-8")
    try:
        with httpx.Client(timeout=10.0) as http:
            refs = list_defects(state, http)
            by_name = {r.name: r for r in refs}
            for wanted in defects:
                ref = by_name[wanted.name]  # this stack's control URL for the same defect
                switch(http, ref, refs)
                started = time.monotonic()
                code, output = judge_defect(state_file, suites, ref, known, extra)
                switch(http, None, refs)
                verdict = Verdict(ref, code == 1, code, time.monotonic() - started, _first_failure(output))
                with lock:
                    report.verdicts.append(verdict)
                    print(_line(verdict), flush=True)
    finally:
        setup.stop()
        shutil.rmtree(lock_dir, ignore_errors=True)


def mutation_check(
    suites: Path,
    *,
    jobs: int = 2,
    only: Sequence[str] = (),
    extra: Sequence[str] = (),
    previous: Path | None = None,
) -> MutationReport:
    """Run the suites against every defect (or those named in ``only``) and report which were caught.

    ``previous`` is an earlier ``mutation.json``: the test that caught a defect then is tried first.
    """
    known = known_killers(previous) if previous else {}
    probe_dir = tempfile.mkdtemp(prefix="kongformance-mutation-")
    probe = RunSetup("local", TargetOptions(), probe_dir)
    state = probe.start()
    try:
        with httpx.Client(timeout=10.0) as http:
            defects = list_defects(state, http)
    finally:
        probe.stop()
        shutil.rmtree(probe_dir, ignore_errors=True)
    if only:
        unknown = set(only) - {d.name for d in defects}
        if unknown:
            raise ValueError(f"unknown defects: {', '.join(sorted(unknown))}")
        defects = [d for d in defects if d.name in only]
    report = MutationReport()
    lock = threading.Lock()
    shares = [defects[i::jobs] for i in range(max(1, jobs))]
    threads = [
        threading.Thread(target=_job, args=(share, suites, report, lock, extra, known), daemon=True)
        for share in shares
        if share
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report.verdicts.sort(key=lambda v: (v.defect.component, v.defect.name))
    return report


def _line(v: Verdict) -> str:
    mark = "caught  " if v.caught else "SURVIVED"
    return f"{mark} {v.defect.component:8} {v.defect.name:50} {v.seconds:6.1f}s {v.first_failure}"


def print_report(report: MutationReport, out: Any = None) -> None:
    out = out or sys.stdout
    print("-- mutation check --", file=out)
    for v in report.verdicts:
        print(_line(v), file=out)
    print(
        f"mutation score: {report.score:.0%} ({len(report.verdicts) - len(report.survivors())}/{len(report.verdicts)})",
        file=out,
    )


def write_report(report: MutationReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2), "utf-8")
