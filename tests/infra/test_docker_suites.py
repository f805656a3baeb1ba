"""The conformance suites on the docker target, against the Kong-shaped stand-in image (issue 13 Done when):
DB mode (Postgres built here, ``kong migrations bootstrap``) with the oauth2 flow, and DB-less with the
openid-connect, upstream-oauth and oauth2-introspection flows. Each runs as a user would run it, in its own
pytest process; skipped with the reason where no engine or no images are there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kongformance.targets import docker as docker_target
from kongformance.targets.docker_settings import POSTGRES_IMAGE

ROOT = Path(__file__).resolve().parents[2]
_ENGINE_OK, _ENGINE_WHY = docker_target.engine_reachable()
_IMAGES = [*docker_target.OUR_IMAGES.values(), "kongformance/kong:3.15", POSTGRES_IMAGE]
_MISSING = [i for i in _IMAGES if _ENGINE_OK and not docker_target.image_present(i)]

pytestmark = [
    pytest.mark.skipif(not _ENGINE_OK, reason=_ENGINE_WHY),
    pytest.mark.skipif(bool(_MISSING), reason=f"images not built ({', '.join(_MISSING)}): run make images"),
]

DB_SUITES = ["suites/test_kong_oauth2.py", "suites/test_openid_connect_bearer.py"]
DBLESS_SUITES = [
    "suites/test_openid_connect_bearer.py",
    "suites/test_upstream_oauth.py",
    "suites/test_oauth2_introspection.py",
]


def _run(suites: list[str], *flags: str) -> str:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *suites,
        "--kf-target",
        "docker",
        "--kf-no-reports",
        "-p",
        "no:cacheprovider",
        "-q",
        *flags,
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    last = done.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last and "error" not in last, last
    return last


def test_db_mode_runs_the_oauth2_and_openid_connect_flows_green() -> None:
    last = _run(DB_SUITES)
    assert "skipped" not in last, f"DB mode skips nothing of these suites: {last}"


def test_dbless_mode_runs_the_bearer_flows_green() -> None:
    _run(DBLESS_SUITES, "--kf-db-less")
