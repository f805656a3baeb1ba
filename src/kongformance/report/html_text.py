"""Small HTML pieces shared by the report's sections: safe text, source links, outcome badges, test items.

Every piece of text taken from a run's results goes through :func:`text` (redaction, then HTML escaping).
"""

from __future__ import annotations

import html

from kongformance.report.model import ComplianceReport, TestResult
from kongformance.report.redaction import redact
from kongformance.sources import Source

FLOW_LABELS = {"all": "all bearer flows"}  # the catalogue's flow "all" = every bearer flow


def text(value: object) -> str:
    """``value`` as safe HTML text: secrets redacted, then escaped."""
    return html.escape(redact(str(value)))


def source_html(sources: tuple[Source, ...]) -> str:
    """A requirement's sources as links (a legacy source without a URL stays text)."""
    parts = []
    for src in sources:
        title = text(src.title)
        parts.append(f'<a href="{html.escape(src.url)}">{title}</a>' if src.url else title)
    return "; ".join(parts)


def outcome_badge(outcome: str) -> str:
    return f'<span class="badge {html.escape(outcome)}">{html.escape(outcome)}</span>'


def test_item(test: TestResult, anchors: dict[str, str]) -> str:
    name = text(test.nodeid)
    if test.nodeid in anchors:
        name = f'<a href="#{anchors[test.nodeid]}">{name}</a>'
    return f"<li>{outcome_badge(test.outcome)} <code>{name}</code></li>"


def flow_label(flow: str) -> str:
    return FLOW_LABELS.get(flow, flow)


def failure_anchors(report: ComplianceReport) -> dict[str, str]:
    return {t.nodeid: f"failure-{n}" for n, t in enumerate(report.failing_tests(), 1)}
