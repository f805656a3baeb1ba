"""What allure shows of a suite test beyond allure-pytest's defaults.

- labels: ``epic`` = each flow the test's requirements apply to, ``story`` = each requirement,
  ``severity`` from the strongest level (MUST and KONG: critical, SHOULD: normal), a link to each source
  (an RFC section on rfc-editor.org, a Kong documentation page or source file);
- a stable ``historyId`` per test (the md5 of its pytest node id), so parametrized tests never fold
  into one another as retries and keep their history from run to run;
- a passing test that observed a recorded deviation gets the label ``deviation`` and the status message
  ``recorded deviation: <ids>``, and ``categories.json`` puts such tests in their own category.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kongformance.requirements import Requirement
from kongformance.sources import Source

SEVERITY = {"MUST": "critical", "KONG": "critical", "SHOULD": "normal"}
DEVIATION_MESSAGE = "recorded deviation: "

CATEGORIES = [
    {
        "name": "Recorded deviations (Kong departs from the requirement as documented)",
        "matchedStatuses": ["passed"],
        "messageRegex": f"{DEVIATION_MESSAGE}.*",
    },
    {"name": "Requirement failures", "matchedStatuses": ["failed"]},
    {"name": "Broken tests (setup, target or fixture errors)", "matchedStatuses": ["broken"]},
    {"name": "Skipped (with the reason)", "matchedStatuses": ["skipped"]},
]


def source_links(sources: tuple[Source, ...]) -> list[tuple[str, str]]:
    """(title, URL) of each source a reader can open."""
    return [(s.title, s.url) for s in sources if s.url]


def label_item(item: pytest.Item, requirements: list[Requirement]) -> None:
    """Add the allure labels and links of the test's requirements as allure-pytest markers."""
    if not requirements:
        return
    flows = list(dict.fromkeys(f for r in requirements for f in r.flows))
    item.add_marker(pytest.mark.allure_label(*flows, label_type="epic"))
    item.add_marker(pytest.mark.allure_label(*(r.id for r in requirements), label_type="story"))
    levels = [r.level for r in requirements]
    severity = "critical" if any(SEVERITY.get(lv) == "critical" for lv in levels) else "normal"
    item.add_marker(pytest.mark.allure_label(severity, label_type="severity"))
    for req in requirements:
        for name, url in source_links(req.source):
            item.add_marker(pytest.mark.allure_link(url, link_type="link", name=f"{req.id}: {name}"))


def _listener_result(config: pytest.Config, nodeid: str) -> Any:
    listener = config.pluginmanager.get_plugin("allure_listener")
    if listener is None:
        return None
    try:
        uuid = listener._cache.get(nodeid)
        return listener.allure_logger.get_test(uuid) if uuid else None
    except (AttributeError, KeyError):
        return None


def finish_result(config: pytest.Config, item: pytest.Item) -> None:
    """Before allure writes the test: a stable historyId, the deviation status message."""
    result = _listener_result(config, item.nodeid)
    if result is None:
        return
    result.historyId = hashlib.md5(item.nodeid.encode("utf-8")).hexdigest()
    devs = [str(v) for k, v in item.user_properties if k == "deviation"]
    status = getattr(result.status, "value", result.status)
    if devs and status == "passed":
        from allure_commons.model2 import StatusDetails

        result.statusDetails = StatusDetails(message=DEVIATION_MESSAGE + ", ".join(dict.fromkeys(devs)))


def mark_deviation(deviations: list[str]) -> None:
    try:
        import allure

        # allure-python-commons leaves dynamic.label unannotated
        allure.dynamic.label("deviation", *dict.fromkeys(deviations))  # type: ignore[no-untyped-call]
    except Exception:  # allure not writing
        pass


def write_categories(allure_dir: Path) -> None:
    (allure_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=1), "utf-8")


def add_environment(allure_dir: Path, facts: dict[str, str]) -> None:
    """Add ``kongformance.<name>=<value>`` lines to environment.properties (target and Kong version are
    written there when the run starts)."""
    path = allure_dir / "environment.properties"
    lines = path.read_text("utf-8").splitlines() if path.is_file() else []
    names = {f"kongformance.{k}" for k in facts}
    lines = [line for line in lines if line.split("=", 1)[0] not in names]
    lines += [f"kongformance.{k}={v}" for k, v in facts.items()]
    path.write_text("\n".join(lines) + "\n", "utf-8")
