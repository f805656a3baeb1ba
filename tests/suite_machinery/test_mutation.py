"""The mutation check (issue 4, Deliver 8): the suites must fail against each defect.

By default a sample (one gateway and one issuer defect) proves the mechanism; with KF_MUTATION_FULL=1 every
defect of both catalogues runs and the test fails unless the mutation score is 100%
(the same as ``kongformance run --mutation``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kongformance.mutation import _first_failure, mutation_check, print_report

SUITES = Path(__file__).resolve().parents[2] / "suites"
SAMPLE = ("oidc_accept_alg_none", "accept_wrong_secret")


def test_suites_catch_every_defect_of_the_reference_components(capsys: pytest.CaptureFixture[str]) -> None:
    full = os.environ.get("KF_MUTATION_FULL") == "1"
    report = mutation_check(SUITES, jobs=2 if full else 1, only=() if full else SAMPLE)
    print_report(report)
    assert report.verdicts, "no defects were listed by the control APIs"
    assert report.survivors() == [], f"defects no suite test caught: {report.survivors()}"


def test_tries_the_test_that_caught_a_defect_last_time_then_likely_files(tmp_path: Path) -> None:
    """Speed: the previous killer first, then suite files named after the defect's plugin."""
    from kongformance.mutation import DefectRef, known_killers, likely_targets

    (tmp_path / "test_upstream_oauth.py").write_text("")
    (tmp_path / "test_issuer_tokens.py").write_text("")
    previous = tmp_path / "mutation.json"
    previous.write_text(
        '{"verdicts": [{"defect": "upstream_oauth_no_cache", "caught": true, '
        '"first_failure": "FAILED suites/test_upstream_oauth.py::test_reuses - assert 2 == 1"}]}'
    )
    known = known_killers(previous)
    assert known == {"upstream_oauth_no_cache": "suites/test_upstream_oauth.py::test_reuses"}
    ref = DefectRef("upstream_oauth_no_cache", "gateway", "http://x/_emulator")
    assert likely_targets(ref, tmp_path, known) == [
        "suites/test_upstream_oauth.py::test_reuses",
        str(tmp_path / "test_upstream_oauth.py"),
    ]
    issuer = DefectRef("accept_wrong_secret", "issuer", "http://y/_emulator")
    assert likely_targets(issuer, tmp_path, {}) == [str(tmp_path / "test_issuer_tokens.py")]


def test_an_option_defect_tries_the_suites_of_its_plugin_first(tmp_path: Path) -> None:
    """option_<plugin>_... defects (a profile option misapplied) go where <plugin>_... defects go."""
    from kongformance.mutation import DefectRef, likely_targets

    for name in ("test_upstream_oauth.py", "test_gateway_routing.py", "test_issuer_tokens.py"):
        (tmp_path / name).write_text("")
    gateway = DefectRef("option_upstream_oauth_scopes_not_sent", "gateway", "http://x/_emulator")
    assert likely_targets(gateway, tmp_path, {}) == [str(tmp_path / "test_upstream_oauth.py")]
    issuer = DefectRef("option_identity_client_labels_ignored", "issuer", "http://y/_emulator")
    assert likely_targets(issuer, tmp_path, {}) == [str(tmp_path / "test_issuer_tokens.py")]


def test_the_first_failure_line_keeps_no_token() -> None:
    """It goes into reports/mutation.json and the CI log; pytest's truncated line can hold part of a JWT."""
    header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
    output = (
        "....F\n"
        f"FAILED suites/test_x.py::test_y - AssertionError: assert 'Bearer {header}.eyJzdWIi' == 'x'\n"
        f"FAILED suites/test_x.py::test_z - assert '{header}' in {{}}\n"
    )
    line = _first_failure(output)
    assert line.startswith("FAILED suites/test_x.py::test_y - AssertionError")
    assert header[:12] not in line and "[redacted" in line
