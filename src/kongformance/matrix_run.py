"""``kongformance run --kong-version 3.9,3.14,3.15`` (or ``--kong-image a,b``): the suites once per version.

Each run writes its own reports under ``reports/<label>/`` (JUnit, allure, coverage, compliance.html); the
version matrix (:mod:`kongformance.report.matrix`) then shows each requirement's verdict per run, changed
verdicts first, in ``reports/version-matrix.html`` and ``.json``. The exit status is the worst run's.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

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
    from kongformance.report.matrix import build_matrix, write_matrix
    from kongformance.runner import pytest_arguments, write_compliance_report

    reports = Path(args.reports or "reports")
    statuses, coverage, links = [], [], []
    for label, version, image in runs:
        one = copy.copy(args)
        one.kong_version, one.reports = version, str(reports / _safe(label))
        cmd = pytest_arguments(one)
        if image:
            cmd += ["--kf-set", f"KF_KONG_IMAGE={image}"]
        print(f"kongformance run: {label} (Kong {version})", flush=True)
        os.environ["KF_RUN_ID"] = uuid.uuid4().hex[:16]  # each run's results and report carry their own id
        statuses.append(subprocess.call([sys.executable, "-m", "pytest", *cmd]))
        write_compliance_report(one, statuses[-1])
        coverage.append((label, Path(one.reports) / "requirements-coverage.json"))
        links.append(f"{_safe(label)}/compliance.html")
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
