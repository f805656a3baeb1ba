"""issue 11 Deliver 8: compliance.html read in a real browser (headless Chromium) at 1,280 px: no console
error, no failed load, no sideways scrolling; the screenshot is a real picture of the report."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from tests.report.browser import available, check_pages

from kongformance.report import build_report
from kongformance.requirements import Coverage, load_catalogue

pytestmark = pytest.mark.skipif(available() is not None, reason=f"no headless browser: {available()}")

LONG_PARAMS = ("oidc-introspection-jwk-with-a-long-parameter-id", "oauth2-introspection-basic", "oidc-bearer")


def _full_size_run(reports: Path) -> Path:
    """A run over the whole shipped catalogue: 3 long-named tests per requirement, one failing test for every
    seventh requirement, a deviation for every fifth, every tenth uncovered."""
    cov = Coverage(
        load_catalogue(), run={"target": "local", "kong_version": "3.15", "run_id": "browser-check"}
    )
    for n, rid in enumerate(cov.catalogue.requirements):
        if n % 10 == 9:
            continue
        for k, param in enumerate(LONG_PARAMS):
            nodeid = f"suites/test_negative_{rid.lower().replace('-', '_')}.py::test_refuses_it[{param}]"
            outcome = "failed" if (n % 7 == 0 and k == 0) else "passed"
            devs = ["oidc-ignores-crit"] if (n % 5 == 0 and outcome == "passed") else []
            cov.add_collected(nodeid, [rid])
            cov.add_outcome(nodeid, [rid], outcome, devs)
    reports.mkdir(parents=True, exist_ok=True)
    cov.write(reports / "requirements-coverage.json")
    return build_report(reports, reports / "compliance.html", target="local", kong_version="3.15")


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _full_size_run(tmp_path_factory.mktemp("browser") / "reports")


def test_the_report_reads_cleanly_at_1280px(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "compliance.png"
    failing = next(iter(load_catalogue().requirements))  # requirement 0 fails (every seventh does)
    queries = ("", "?verdict=fails&level=MUST", "?flow=oauth2-introspection", f"#req-{failing}")
    checks = check_pages(page, queries, width=1280, screenshot=shot)
    assert [p for c in checks for p in c.problems()] == []
    assert all(c.title for c in checks)
    assert checks[0].rows > len(load_catalogue())  # the matrix rendered, one row per requirement at least
    # folded at load: summary, per-flow table and the first failures, not 40,000 px of detail
    assert checks[0].shown_rows == 0 and checks[0].height < 6000, checks[0].height
    # a filtered address, or a link to a requirement (the banner's), opens the matrix where it points
    assert checks[1].shown_rows > 0 and checks[2].shown_rows > 0 and checks[3].shown_rows > 0
    assert _png_size(shot.read_bytes()) == (1280, 900) or _png_size(shot.read_bytes())[0] >= 1200


def test_the_check_sees_sideways_scrolling_and_console_errors(page: Path, tmp_path: Path) -> None:
    """The check can fail: a page that is too wide and throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        page.read_text("utf-8").replace(
            "</body>", '<div style="width:3000px">wide</div><script>throw new Error("boom")</script></body>'
        ),
        "utf-8",
    )
    (check,) = check_pages(bad, width=1280)
    assert check.scroll_width > check.client_width
    assert any("boom" in m for m in check.console_errors)
    assert len(check.problems()) == 2
