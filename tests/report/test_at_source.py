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


KPAT = "kpat_" + "Zq8x" * 12  # shaped like a Konnect token: the patterns mask it
SETTING_SECRET = "n0t-a-kpat-" + "but-still-a-secret"  # no pattern knows it: learnt from KONNECT_TOKEN
NEEDS_THE_TARGET = """
import pytest
from kongformance.suite_run import run_manager

@pytest.fixture
def kf_state(request):
    return run_manager(request.config).state()

@pytest.mark.requirement("RFC6750-3.1-invalid-token")
def test_needs_the_target(kf_state):
    pass
"""


@pytest.mark.parametrize(
    ("settings", "workers", "code"),
    [
        (["--kf-set", f"KF_RETRY_MAX_ATTEMPTS={KPAT}"], [], pytest.ExitCode.USAGE_ERROR),
        (["--kf-set", f"KF_RETRY_MAX_ATTEMPTS={KPAT}"], ["-n", "2"], pytest.ExitCode.USAGE_ERROR),
        (["--kf-target", "konnect", "--kf-set", f"KONNECT_REGION={KPAT}"], [], 3),
        (
            ["--kf-target", "konnect"]
            + ["--kf-set", f"KONNECT_TOKEN={SETTING_SECRET}", "--kf-set", f"KONNECT_REGION={SETTING_SECRET}"],
            ["-n", "2"],
            3,
        ),
    ],
    ids=["usage-error", "usage-error-xdist", "target-settings", "learnt-setting-xdist"],
)
def test_a_secret_in_a_bad_setting_never_reaches_the_terminal(
    pytester: pytest.Pytester, settings: list[str], workers: list[str], code: int
) -> None:
    """A pytest.exit or UsageError of the plugin quotes the bad value of a setting: redacted, like the rest."""
    pytester.mkdir("suites")
    (pytester.path / "suites" / "test_x.py").write_text(NEEDS_THE_TARGET)
    result = pytester.runpytest_subprocess(
        "suites", "--kf-reports", str(pytester.path / "out"), "-p", "no:cacheprovider", *settings, *workers
    )
    terminal = result.stdout.str() + result.stderr.str()
    assert result.ret == code, terminal[-2000:]
    assert "[redacted " in terminal  # the line that quotes the value is there, masked
    assert KPAT not in terminal and KPAT[5:] not in terminal and SETTING_SECRET not in terminal
