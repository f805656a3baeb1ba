"""The version matrix (issue 13 Deliver 5): a requirement's verdict per Kong version, changed ones first."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kongformance.matrix_run import MatrixError, entries
from kongformance.report.matrix import build_matrix, render_matrix_html, write_matrix

SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlc2lnbmF0dXJl"


def _coverage(path: Path, statuses: dict[str, str]) -> Path:
    reqs = [
        {
            "id": rid,
            "level": "MUST",
            "statement": f"{rid} {SECRET}",
            "source": "RFC 6750 section 3",
            "status": s,
        }
        for rid, s in statuses.items()
    ]
    path.write_text(json.dumps({"run": {}, "requirements": reqs, "uncovered": []}))
    return path


def test_changed_verdicts_come_first(tmp_path: Path) -> None:
    a = _coverage(tmp_path / "a.json", {"R-a": "passed", "R-b": "passed", "R-c": "deviation"})
    b = _coverage(tmp_path / "b.json", {"R-a": "passed", "R-b": "failed", "R-c": "deviation"})
    c = _coverage(tmp_path / "c.json", {"R-a": "passed", "R-b": "passed", "R-c": "passed"})
    matrix = build_matrix([("3.9", a), ("3.14", b), ("3.15", c)])
    assert matrix.columns == ("3.9", "3.14", "3.15")
    assert [r.rid for r in matrix.rows] == ["R-b", "R-c", "R-a"]
    assert [r.rid for r in matrix.changed()] == ["R-b", "R-c"]
    assert matrix.rows[0].verdicts == ("passed", "failed", "passed")
    doc = matrix.to_json()
    assert doc["changed"] == ["R-b", "R-c"] and doc["requirements"][0]["verdicts"]["3.14"] == "failed"


def test_the_page_is_redacted_and_escaped(tmp_path: Path) -> None:
    a = _coverage(tmp_path / "a.json", {"R-<x>": "passed"})
    page = render_matrix_html(build_matrix([("3.15", a)], ["3.15/compliance.html"]))
    assert SECRET not in page and "R-&lt;x&gt;" in page and 'href="3.15/compliance.html"' in page
    out = write_matrix(build_matrix([("3.15", a)]), tmp_path / "reports")
    assert out.name == "version-matrix.html" and (out.parent / "version-matrix.json").is_file()


def _args(**kw: str | None) -> argparse.Namespace:
    return argparse.Namespace(kong_version=kw.get("kong_version"), kong_image=kw.get("kong_image"))


def test_matrix_entries_from_versions_or_images() -> None:
    assert entries(_args(kong_version="3.9,3.14,3.15")) == [
        ("3.9", "3.9", None),
        ("3.14", "3.14", None),
        ("3.15", "3.15", None),
    ]
    assert entries(_args(kong_image="kong/kong-gateway:3.9,kong/kong-gateway:3.15")) == [
        ("kong/kong-gateway:3.9", "3.9", "kong/kong-gateway:3.9"),
        ("kong/kong-gateway:3.15", "3.15", "kong/kong-gateway:3.15"),
    ]
    assert len(entries(_args(kong_version="3.15"))) == 1
    for bad in (
        _args(kong_version="3.9,latest"),
        _args(kong_image="a:latest,b:3.9"),
        _args(kong_version="3.9,3.15", kong_image="a:1,b:2"),
    ):
        with pytest.raises(MatrixError):
            entries(bad)


def test_the_local_version_matrix_runs_each_modelled_version_and_renders(tmp_path: Path) -> None:
    """``kongformance run --kong-version 3.9,3.14,3.15`` end to end (suites selected by -k to keep it short;
    the routing suite holds the version-dependent defaults): every leg green, one report per version, and a
    version matrix with a column per version."""
    import subprocess
    import sys

    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "kongformance.cli", "run", "--target", "local", "-n", "0"]
    command += ["--kong-version", "3.9,3.14,3.15", "--reports", str(reports), "--", "-k", "gateway_routing"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for version in ("3.9", "3.14", "3.15"):
        assert (reports / version / "compliance.html").is_file()
    matrix = json.loads((reports / "version-matrix.json").read_text())
    assert matrix["columns"] == ["3.9", "3.14", "3.15"]
    verdicts = {r["id"]: r["verdicts"] for r in matrix["requirements"]}
    assert set(verdicts["KONG-DEFAULTS-3.14"]) == {"3.9", "3.14", "3.15"}
    assert "failed" not in {v for row in verdicts.values() for v in row.values()}
    assert (reports / "version-matrix.html").is_file()


def test_a_signal_reaches_every_leg_of_a_matrix_and_each_tears_down(tmp_path: Path) -> None:
    """The legs run at once: SIGTERM on ``kongformance run`` is passed on to each, each ends as interrupted
    (exit 2) after its teardown, and no leg's ledger is left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    ledger = tmp_path / "ledger"
    command = [sys.executable, "-m", "kongformance.cli", "run", "--target", "local", "-n", "0"]
    command += ["--kong-version", "3.9,3.15", "--reports", str(tmp_path / "reports")]
    env = {**os.environ, "KF_LEDGER_DIR": str(ledger)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while len(list(ledger.glob("*.jsonl"))) < 2:  # both legs set up: both hold a ledger
            assert proc.poll() is None and time.monotonic() < deadline, "the legs never both started"
            time.sleep(0.05)  # poll: watching other processes reach a point of their run
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 2, text[-3000:]
    assert text.count("KeyboardInterrupt: signal SIGTERM") >= 2, text[-3000:]
    assert list(ledger.glob("*")) == []
