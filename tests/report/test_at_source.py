"""Issue 11, Deliver 1 (unit level): what a suite test prints, logs, warns or asserts reaches the terminal,
JUnit XML and allure results redacted, at -vv, with -l, in one process and under xdist; and a plain
``pytest suites`` run writes compliance.html (Deliver 5). The full-stack proof is test_leak_scan.py."""

from __future__ import annotations

import pytest

OPAQUE = "op4que-" + "t0ken-issued-to-the-run"  # no pattern knows it: only learning masks it
SECRET = "q7vx2m9kd0s4hz" + "1pw8tn5ryb"
JWT = "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJjbGllbnQifQ." + "c2lnbmF0dXJlLW5vdC1yZWFs"

SUITE = f'''
import logging
import warnings
import pytest
from kongformance.report.redaction import learn

OPAQUE = "{OPAQUE}"

@pytest.mark.requirement("RFC6750-3.1-invalid-token")
def test_fails_with_secrets_everywhere():
    learn(OPAQUE)
    token = "{JWT}"
    form = {{"client_secret": "{SECRET}", "token": OPAQUE}}
    print("sent", form, "Authorization: Bearer " + OPAQUE)
    logging.getLogger("kf").warning("got %s", token)
    warnings.warn("saw " + OPAQUE)
    assert {{"Authorization": "Bearer " + token, "t": OPAQUE}} == {{"Authorization": "Bearer x", "t": "y"}}
'''


@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["serial", "xdist"])
def test_nothing_reaches_the_terminal_junit_or_allure_unredacted(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.mkdir("suites")
    (pytester.path / "suites" / "test_x.py").write_text(SUITE)
    reports = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "suites", "--kf-reports", str(reports), "-p", "no:cacheprovider", "-vv", "-l", "-rA", *workers
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    written = {"terminal": result.stdout.str() + result.stderr.str()}
    written.update({str(p): p.read_text(errors="replace") for p in reports.rglob("*") if p.is_file()})
    assert "[redacted " in written["terminal"] and "kongformance evidence" in written["terminal"]
    assert (reports / "compliance.html").is_file() and (reports / "evidence.json").is_file()
    leaks = [(where, s[:12]) for where, text in written.items() for s in (OPAQUE, SECRET, JWT) if s in text]
    assert leaks == []
