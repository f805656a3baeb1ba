"""Open a compliance report in headless Chromium (Debian's chromium and chromium-driver, through selenium) and
say what a reader's browser would see go wrong: console errors, failed loads, horizontal overflow.

Also a script: ``python tests/report/browser.py reports/compliance.html docs/img/compliance.png`` checks a
report and writes the screenshot the README shows.
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# this machine has no network: keep Chromium from reaching for it (its connections would be refused)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
_PROBE = """
const doc = document.documentElement;
const wide = [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > doc.clientWidth + 1 && e.getClientRects().length)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' +
                        Math.round(e.getBoundingClientRect().right) + 'px');
const broken = [...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src);
const loads = performance.getEntriesByType('resource').map(r => r.name);
return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide: wide, broken: broken,
        loads: loads, height: doc.scrollHeight, title: document.title,
        rows: document.querySelectorAll('tr').length,
        shown: [...document.querySelectorAll('tr.req')].filter(r => !r.closest('details:not([open])') &&
                                                                  r.getClientRects().length).length};
"""


def available() -> str | None:
    """Why the browser check cannot run here (``None``: it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing (apt-get install chromium chromium-driver; .ci/run installs them)"
    return None


@dataclass
class PageCheck:
    """What the browser saw of one page at one width."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)  # elements sticking out on the right
    scroll_width: int = 0
    client_width: int = 0
    height: int = 0
    rows: int = 0
    shown_rows: int = 0  # matrix rows a reader sees (folded sections and filters hide the others)
    title: str = ""

    def problems(self) -> list[str]:
        out = [f"console error: {m}" for m in self.console_errors]
        out += [f"failed load: {u}" for u in self.failed_loads]
        if self.scroll_width > self.client_width:
            out.append(
                f"scrolls sideways: {self.scroll_width}px wide in {self.client_width}px ({self.overflow})"
            )
        return out


def check_pages(
    page: Path,
    queries: tuple[str, ...] = ("",),
    width: int = 1280,
    screenshot: Path | None = None,
    height: int = 900,
) -> list[PageCheck]:
    """Load ``page`` (with each query string) in a ``width`` x ``height`` px window; the first load's
    viewport goes to ``screenshot``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="kf-chromium-"))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_window_size(width, height)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # headless caps the window
        out = []
        for n, query in enumerate(queries):
            url = page.resolve().as_uri() + query
            driver.get(url)
            facts = driver.execute_script(_PROBE)
            logs = driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves get_log unannotated
            check = PageCheck(
                url,
                console_errors=[e["message"] for e in logs if e.get("level") == "SEVERE"],
                failed_loads=[u for u in facts["broken"]]
                + [u for u in facts["loads"] if not u.startswith(("data:", "file:"))],
                overflow=list(facts["wide"]),
                scroll_width=int(facts["scrollWidth"]),
                client_width=int(facts["clientWidth"]),
                height=int(facts["height"]),
                rows=int(facts["rows"]),
                shown_rows=int(facts["shown"]),
                title=str(facts["title"]),
            )
            out.append(check)
            if n == 0 and screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
                shot = driver.execute_cdp_cmd(
                    "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
                )
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        return out
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/report/browser.py REPORT.html SCREENSHOT.png", file=sys.stderr)
        return 2
    why = available()
    if why:
        print(f"browser check: {why}", file=sys.stderr)
        return 2
    queries = ("", "?verdict=fails", "?flow=oauth2-introspection")
    checks = check_pages(Path(argv[0]), queries, screenshot=Path(argv[1]), height=1500)
    problems = [p for c in checks for p in c.problems()]
    for c in checks:
        print(
            f"{c.url}: {c.rows} rows ({c.shown_rows} requirements shown), {c.height}px tall, "
            f"{c.scroll_width}px wide at {c.client_width}px"
        )
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
