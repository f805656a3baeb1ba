"""``kongformance run --kong-version 3.9,3.14,3.15`` (or ``--kong-image a,b``): the suites once per version.

The runs go at once (each in its own process group; its output is printed whole when it ends, in order).
Each run writes its own reports under ``reports/<label>/`` (JUnit, allure, coverage, compliance.html); the
version matrix (:mod:`kongformance.report.matrix`) then shows each requirement's verdict per run, changed
verdicts first, in ``reports/version-matrix.html`` and ``.json``. The exit status is the worst run's.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from kongformance.targets.docker_settings import version_from_tag


class MatrixError(ValueError):
    """The matrix asked for cannot be run (a one-line message)."""


def entries(args: argparse.Namespace) -> list[tuple[str, str, str | None]]:
    """``(label, kong_version, kong_image)`` for each run; one entry means no matrix."""
    versions = [v.strip() for v in (args.kong_version or "").split(",") if v.strip()]
    images = [i.strip() for i in (getattr(args, "kong_image", None) or "").split(",") if i.strip()]
    for v in versions:
        if not re.fullmatch(r"\d+\.\d+(\.\d+)*", v):
            raise MatrixError(f"--kong-version {v!r} is not a version (e.g. 3.15 or 3.9,3.14,3.15)")
    if len(images) > 1 and len(versions) > 1:
        raise MatrixError("give several --kong-image or several --kong-version, not both")
    if len(images) > 1:
        out = []
        for image in images:
            version = versions[0] if versions else version_from_tag(image)
            if version is None:
                raise MatrixError(
                    f"cannot tell the Kong version of {image} from its tag: give --kong-version"
                )
            out.append((image, version, image))
        return out
    image = images[0] if images else None
    return [(v, v, image) for v in versions] or [("", "", image)]


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label)


def run_matrix(args: argparse.Namespace, runs: list[tuple[str, str, str | None]]) -> int:
    """Run every leg at once (their set-up and report phases overlap on the cores), each in its own process
    group with its output kept aside and printed whole, in order, as the legs finish; then the matrix."""
    from kongformance.report.matrix import build_matrix, write_matrix
    from kongformance.runner import write_compliance_report

    reports = Path(args.reports or "reports")
    legs = [_leg(args, label, version, image, reports) for label, version, image in runs]
    statuses = _run_legs(legs)
    coverage, links = [], []
    for leg, status in zip(legs, statuses, strict=True):
        os.environ["KF_RUN_ID"] = leg.run_id  # the report is built from this leg's own results only
        write_compliance_report(leg.args, status)
        coverage.append((leg.label, Path(leg.args.reports) / "requirements-coverage.json"))
        links.append(f"{_safe(leg.label)}/compliance.html")
    present = [
        (label, path, link) for (label, path), link in zip(coverage, links, strict=True) if path.is_file()
    ]
    if present:
        matrix = build_matrix([(label, path) for label, path, _ in present], [link for *_, link in present])
        print(f"version matrix: {write_matrix(matrix, reports)}")
    else:
        print("kongformance run: no run wrote requirements-coverage.json; no version matrix", file=sys.stderr)
    failing = [s for s in statuses if s != 0]
    return failing[0] if failing else 0


@dataclass
class _Leg:
    label: str
    version: str
    args: argparse.Namespace
    command: list[str]
    run_id: str


def _leg(args: argparse.Namespace, label: str, version: str, image: str | None, reports: Path) -> _Leg:
    from kongformance.runner import pytest_arguments

    one = copy.copy(args)
    one.kong_version, one.reports = version, str(reports / _safe(label))
    command = [sys.executable, "-m", "pytest", *pytest_arguments(one)]
    if image:
        command += ["--kf-set", f"KF_KONG_IMAGE={image}"]
    return _Leg(label, version, one, command, uuid.uuid4().hex[:16])


def _run_legs(legs: list[_Leg]) -> list[int]:
    """Start every leg, pass SIGINT/SIGTERM on to all of them (each then tears down) and wait; each leg's
    output (already redacted by its pytest plugin) is printed once the legs before it have been printed."""
    with tempfile.TemporaryDirectory(prefix="kongformance-matrix-") as tmp:
        logs = [Path(tmp) / f"{i}.log" for i in range(len(legs))]
        procs: list[subprocess.Popen[bytes]] = []
        for leg, log in zip(legs, logs, strict=True):
            print(f"kongformance run: {leg.label} (Kong {leg.version}) started", flush=True)
            with log.open("wb") as out:
                env = {**os.environ, "KF_RUN_ID": leg.run_id}
                procs.append(
                    subprocess.Popen(
                        leg.command, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0
                    )
                )

        def forward(signum: int, frame: FrameType | None) -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            statuses = []
            for leg, proc, log in zip(legs, procs, logs, strict=True):
                statuses.append(proc.wait())
                print(f"kongformance run: {leg.label} (Kong {leg.version})", flush=True)
                sys.stdout.write(log.read_text("utf-8", "replace"))
                sys.stdout.flush()
            return statuses
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
