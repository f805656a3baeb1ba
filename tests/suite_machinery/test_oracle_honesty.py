"""Honesty of our own oracles (issue 10 Deliver 7): break one oracle helper, and the suite must go red.

Each case runs a small selection of the conformance suite on the local target in a subprocess, with a plugin
(``-p kf_break``) that breaks one helper by monkeypatching it (never by editing it): the issuer emulator's mint
answer changes shape, the upstream log reads nothing, the challenge parser loses the auth-params and the strict
grammar accepts anything, the deviation registry forgets every entry. A control run proves the same selection
is green when nothing is broken, so the red comes from the break.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BREAKER = '''
"""Breaks one oracle helper of the conformance suite (KF_BREAK names which), by monkeypatching only."""
import os

import httpx


def pytest_configure(config):
    which = os.environ["KF_BREAK"]
    if which == "mint-shape":  # the mint answer renames "token": a lenient reader would send "None"
        original = httpx.Client.post

        def post(self, url, *args, **kwargs):
            resp = original(self, url, *args, **kwargs)
            if str(url).endswith("/mint") and resp.status_code == 200:
                doc = resp.json()
                return httpx.Response(200, json={"jwt": doc.pop("token"), **doc}, request=resp.request)
            return resp

        httpx.Client.post = post
    elif which == "upstream-log":  # the upstream log reader finds nothing
        import fixtures.http

        fixtures.http.Upstream.seen = lambda self, probe: []
    elif which == "challenge-parser":  # the parser drops every auth-param; the strict grammar accepts anything
        import fixtures.oracle

        fixtures.oracle.parse_www_authenticate = lambda value, strict=True: [
            fixtures.oracle.Challenge(value.split(" ", 1)[0] or "Bearer")
        ]
        fixtures.oracle.follows_challenge_grammar = lambda value: True
        import fixtures.evidence

        fixtures.evidence.follows_challenge_grammar = lambda value: True
    elif which == "deviation-registry":  # the registry records nothing
        import kongformance.deviations

        kongformance.deviations.DeviationRegistry.find = lambda self, requirement, flow, version: None
    elif which != "none":
        raise ValueError(which)
'''

SELECTION = {
    "mint-shape": [
        "suites/test_negative_claims.py::test_refuses_a_token_whose_typ_is_not_an_access_token_type"
    ],
    "upstream-log": ["suites/test_negative_transport.py::test_accepts_the_bearer_scheme_in_any_case"],
    "challenge-parser": [
        "suites/test_negative_transport.py::test_an_invalid_token_error_is_well_formed_and_never_echoes_the_token"
    ],
    "deviation-registry": [
        "suites/test_negative_transport.py::"
        "test_a_token_in_the_header_and_another_in_the_query_is_refused_or_a_recorded_deviation"
    ],
}


def run_selection(tmp_path: Path, which: str, selection: list[str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "kf_break.py").write_text(BREAKER, "utf-8")
    env = {
        **os.environ,
        "KF_BREAK": which,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    args = ["-p", "kf_break", "--kf-target", "local", "--kf-no-reports", "-p", "no:cacheprovider", "-q"]
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "pytest", *args, *selection],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_selection_is_green_when_no_oracle_is_broken(tmp_path: Path) -> None:
    every = [node for nodes in SELECTION.values() for node in nodes]
    done = run_selection(tmp_path, "none", every)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.parametrize("which", list(SELECTION))
def test_a_broken_oracle_helper_turns_the_suite_red(tmp_path: Path, which: str) -> None:
    done = run_selection(tmp_path, which, SELECTION[which])
    assert done.returncode == 1, f"exit {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert " failed" in done.stdout, done.stdout[-2000:]
