"""Small HTML pieces shared by the report's sections: safe text, source links, outcome badges, test items.

Every piece of text taken from a run's results goes through :func:`text` (redaction, then HTML escaping).
"""

from __future__ import annotations

import html

from kongformance.report.allure_extras import source_links
from kongformance.report.model import ComplianceReport, TestResult
from kongformance.report.redaction import redact

FLOW_LABELS = {"all": "all bearer flows"}  # the catalogue's flow "all" = every bearer flow


def text(value: object) -> str:
    """``value`` as safe HTML text: secrets redacted, then escaped."""
    return html.escape(redact(str(value)))


def source_html(source: str) -> str:
    """A requirement's source with RFC references linked to rfc-editor.org (sections where given) and URLs
    linked as they are."""
    links = dict(source_links(source))
    parts = []
    for part in (p.strip() for p in source.split(";")):
        if not part:
            continue
        url = links.get(part)
        parts.append(f'<a href="{html.escape(url)}">{text(part)}</a>' if url else text(part))
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
