"""Issue 11, Deliver 1: no secret of a failing run reaches anything the run writes, at any verbosity.

Each case runs a few suites in a subprocess against the local stack with two emulator defects switched on
(the gateway forwards the client's Authorization header upstream and accepts expired tokens), so tests fail
with tokens in their assertion messages, ``-vv`` diffs, ``-l`` locals and failure evidence. Then it scans the
terminal output and every file under the run's reports directory (JUnit XML, allure results and
attachments, coverage JSON, evidence.json, compliance.html) for every secret the run's processes learnt
(client secrets of the profile, tokens and credentials sent or issued), for anything shaped like a JWT or
a fragment of one, and for an unredacted Basic credential or client_secret value.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = [
    "suites/test_openid_connect_bearer.py",
    "suites/test_expiry.py",
    "suites/test_issuer_secrets_revocation.py",
]
DEFECTS = ["oidc_forward_client_authorization_unchanged", "oidc_accept_expired_token"]
PATTERNS = {
    "a JWT or a fragment of one": re.compile(r"eyJ[A-Za-z0-9_-]{8,}"),
    "a Basic credential": re.compile(r"\bBasic\s+(?!\[redacted)(?=[A-Za-z+/]*[0-9+/=])[A-Za-z0-9+/]{8,}=*"),
    "a client secret": re.compile(r"client_secret[\"']?\s*[:=]\s*[\"']?(?!\[redacted)[A-Za-z0-9_-]{8,}"),
}


def _run(tmp_path: Path, verbosity: list[str], workers: bool) -> tuple[str, Path, list[str]]:
    reports, sink = tmp_path / "reports", tmp_path / "sink"
    sink.mkdir()
    args = [sys.executable, "-m", "pytest", *SUITES, "-p", "no:cacheprovider", "--kf-reports", str(reports)]
    args += [a for d in DEFECTS for a in ("--kf-defect", d)] + verbosity + (["-n", "2"] if workers else [])
    env = {**os.environ, "KF_LEAK_SCAN_SINK": str(sink)}
    env.pop("KF_RUN_ID", None)
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    secrets = sorted({s for f in sink.glob("*.json") for s in json.loads(f.read_text("utf-8"))})
    return proc.stdout + proc.stderr, reports, secrets


@pytest.mark.parametrize("workers", [False, True], ids=["one-process", "xdist-2"])
@pytest.mark.parametrize("verbosity", [["-q"], [], ["-v"], ["-vv", "-l"]], ids=["q", "default", "v", "vv"])
def test_a_failing_run_writes_no_secret_anywhere(tmp_path: Path, verbosity: list[str], workers: bool) -> None:
    output, reports, secrets = _run(tmp_path, verbosity, workers)
    assert " failed" in output, f"the defects made no test fail: {output[-800:]}"
    assert any("secret" in s or len(s) > 20 for s in secrets), (
        "the run learnt no secret (nothing to scan for)"
    )
    written = {"terminal": output}
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        written[str(path.relative_to(reports))] = path.read_text("utf-8", errors="replace")
    assert {"junit.xml", "compliance.html", "evidence.json"} <= set(written)
    assert any(name.startswith("allure-results/") and "attachment" in name for name in written)
    leaks = []
    for where, text in written.items():
        leaks += [f"{where}: a learnt secret ending {s[-4:]!r}" for s in secrets if s in text]
        leaks += [f"{where}: {what}" for what, pattern in PATTERNS.items() if pattern.search(text)]
    assert not leaks, f"{len(leaks)} leak(s):\n" + "\n".join(leaks[:20])
