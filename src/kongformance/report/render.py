"""Renders a :class:`ComplianceReport` as one self-contained HTML page (inline CSS and JS, no assets).

Every piece of text taken from the run's results goes through :func:`text` (redaction, then HTML
escaping); nothing from the results reaches the page any other way.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from importlib import resources
from string import Template

from kongformance.clients.polite import describe_calls
from kongformance.report.evidence_html import evidence_html
from kongformance.report.flow_matrix import flow_summary, matrix
from kongformance.report.html_text import (
    FLOW_LABELS,
    failure_anchors,
    outcome_badge,
    source_html,
    test_item,
    text,
)
from kongformance.report.model import (
    VERDICT_LABELS,
    VERDICTS,
    ComplianceReport,
    RequirementVerdict,
)

__all__ = ["FLOW_LABELS", "render_html", "source_html", "text"]

TITLE = "Kong conformance report"
DETAILS_LIMIT = 12_000  # characters of a traceback kept in the report
FAILURES_OPEN = 5  # failure cards open at load; the rest folded


def _asset(name: str) -> str:
    return resources.files("kongformance.report").joinpath(f"assets/{name}").read_text("utf-8")


def render_html(report: ComplianceReport, generated: str) -> str:
    """The complete page for ``report``; ``generated`` is the time of rendering as shown in the footer."""
    page = Template(_asset("page.html"))
    return page.substitute(
        title=html.escape(TITLE),
        style=_asset("report.css"),
        script=_asset("report.js"),
        run=_run(report),
        summary=_summary(report),
        matrix=flow_summary(report) + matrix(report, failure_anchors(report)),
        uncovered=_uncovered(report),
        deviations=_deviations(report),
        failures=_failures(report),
        generated=text(generated),
        sources=", ".join(f"<code>{text(s)}</code>" for s in report.run.sources) or "no files",
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)} min {secs:.1f} s" if minutes else f"{secs:.1f} s"


def _started(value: str) -> str:
    """An ISO 8601 start time as ``YYYY-MM-DD HH:MM:SS UTC`` (other text unchanged)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _run(report: ComplianceReport) -> str:
    run = report.run
    unknown = '<span class="muted">not recorded</span>'
    facts = [
        ("Target", text(run.target) if run.target else unknown),
        ("Kong version", text(run.kong_version) if run.kong_version else unknown),
        ("Started", text(_started(run.started)) if run.started else unknown),
        ("Duration", _duration(run.duration)),
        ("Run id", text(run.run_id) if run.run_id else unknown),
        ("API calls", text(describe_calls(run.api_calls)) if run.api_calls is not None else unknown),
    ]
    if run.defects:
        facts.append(
            ("Defects on", f'<strong class="red">{text(run.defects)}</strong> (emulator defects switched on)')
        )
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl class="run">{items}</dl>'


def _banner(report: ComplianceReport) -> str:
    failing = [r for r in report.rows if r.verdict == "fails"]
    red = [r for r in failing if r.severity == "red"]
    amber = [r for r in failing if r.severity == "amber"]
    if red:
        extra = f" and {len(amber)} SHOULD requirement(s)" if amber else ""
        return (
            f'<div class="banner red">{len(red)} MUST/KONG requirement(s) fail{extra}: '
            f"{_requirement_links(red + amber)}.</div>"
        )
    if amber:
        return (
            f'<div class="banner amber">{len(amber)} SHOULD requirement(s) fail; no MUST or KONG failure: '
            f"{_requirement_links(amber)}.</div>"
        )
    if not report.tests:
        return '<div class="banner amber">The results hold no test.</div>'
    return '<div class="banner green">No requirement fails.</div>'


def _requirement_links(rows: list[RequirementVerdict]) -> str:
    return ", ".join(
        f'<a href="#req-{html.escape(r.requirement.id, quote=True)}"><code>{text(r.requirement.id)}</code></a>'
        for r in rows
    )


def _card(label: str, n: int, colour: str) -> str:
    return f'<div class="card {colour}"><span class="n">{n}</span>{html.escape(label)}</div>'


def _summary(report: ComplianceReport) -> str:
    tc = report.test_counts()
    vc = report.verdict_counts()
    ok, must = report.readiness()
    tests = [
        _card("passed", tc["passed"], "green"),
        _card("failed", tc["failed"], "red"),
        _card("errors", tc["error"], "red"),
        _card("skipped", tc["skipped"], "grey"),
        _card("deviations", tc["deviations"], "purple"),
        _card("xfail", tc["xfailed"], "grey"),
    ]
    if tc["xpassed"]:
        tests.append(_card("xpass", tc["xpassed"], "amber"))
    colours = {
        "fails": "red",
        "open": "open",
        "deviation": "purple",
        "conforms": "green",
        "unchecked": "unchecked",
    }
    reqs = [_card(VERDICT_LABELS[v], vc[v], colours.get(v, "grey")) for v in VERDICTS]
    unknown = ""
    if report.unknown_requirements:
        ids = ", ".join(f"<code>{text(r)}</code>" for r in report.unknown_requirements)
        unknown = f'<p class="banner amber">Tests name requirements the catalogue lacks: {ids}</p>'
    return (
        '<section id="summary"><h2>Summary</h2>'
        + _banner(report)
        + f'<h3>Tests ({len(report.tests)})</h3><div class="cards">{"".join(tests)}</div>'
        + f'<h3>Requirements ({len(report.rows)})</h3><div class="cards">{"".join(reqs)}</div>'
        + f"<p>MUST requirements that conform (or depart as recorded): <strong>{ok} of {must}</strong>.</p>"
        + unknown
        + "</section>"
    )


# ---------------------------------------------------------------- appendices


def _uncovered(report: ComplianceReport) -> str:
    rows = report.uncovered()
    if not rows:
        return '<section id="uncovered"><h2>Uncovered requirements</h2><p>Every requirement is covered.</p></section>'
    body = "".join(
        f'<tr><td class="id"><a href="#req-{html.escape(r.requirement.id, quote=True)}">{text(r.requirement.id)}'
        f'</a></td><td><span class="badge {html.escape(r.requirement.level)}">{html.escape(r.requirement.level)}'
        f"</span></td><td>{text(r.requirement.statement)}</td><td>{source_html(r.requirement.source)}</td></tr>"
        for r in rows
    )
    return (
        f'<section id="uncovered"><details><summary><h2>Uncovered requirements ({len(rows)})</h2></summary>'
        "<p>No test of this run names these requirements.</p>"
        f"<table><thead><tr><th>ID</th><th>Level</th><th>Requirement</th><th>Source</th></tr></thead>"
        f"<tbody>{body}</tbody></table></details></section>"
    )


def _deviations(report: ComplianceReport) -> str:
    observed = report.observed_deviations()
    if not observed:
        return '<section id="deviations"><h2>Deviations</h2><p>The run observed no deviation.</p></section>'
    version = text(report.run.kong_version) if report.run.kong_version else "not recorded"
    body = "".join(
        f'<tr><td class="id">{text(note.id)}</td>'
        f'<td class="id"><a href="#req-{html.escape(note.requirement, quote=True)}">{text(note.requirement)}</a></td>'
        f"<td>{text(note.kong_versions or 'all versions') if note.recorded else 'not recorded'}</td>"
        f"<td>{text(note.summary)}</td><td>{source_html(note.source)}</td>"
        f"<td><details><summary>{len(tests)} test(s)</summary>"
        f'<ul class="tests">{"".join(test_item(t, {}) for t in tests)}</ul></details></td></tr>'
        for note, tests in observed
    )
    return (
        f'<section id="deviations"><details><summary><h2>Deviations ({len(observed)})</h2></summary>'
        f"<p>Kong's recorded departures from a requirement, observed in this run (Kong {version}). "
        "A recorded deviation is reported, not failed; a test fails when a recorded one no longer happens.</p>"
        "<table><thead><tr><th>Deviation</th><th>Departs from</th><th>Recorded for Kong</th><th>What Kong does</th>"
        f"<th>Source</th><th>Observed by</th></tr></thead><tbody>{body}</tbody></table></details></section>"
    )


def _failures(report: ComplianceReport) -> str:
    failing = report.failing_tests()
    if not failing:
        return '<section id="failures"><h2>Failures</h2><p>No test failed.</p></section>'
    anchors = failure_anchors(report)
    statements = {r.requirement.id: r.requirement for r in report.rows}
    parts = []
    for n, test in enumerate(failing):
        reqs = "".join(
            f'<li><a href="#req-{html.escape(r, quote=True)}"><code>{text(r)}</code></a>'
            + (
                f' <span class="badge {html.escape(statements[r].level)}">{html.escape(statements[r].level)}</span> '
                f"{text(statements[r].statement)}"
                if r in statements
                else ""
            )
            + "</li>"
            for r in test.requirements
        )
        details = test.details
        if len(details) > DETAILS_LIMIT:
            details = "[... cut ...]\n" + details[-DETAILS_LIMIT:]
        body = f"<details><summary>traceback</summary><pre>{text(details)}</pre></details>" if details else ""
        opened = " open" if n < FAILURES_OPEN else ""
        parts.append(
            f'<section class="failure" id="{anchors[test.nodeid]}"><details{opened}><summary><h3>'
            f"{outcome_badge(test.outcome)} <code>{text(test.nodeid)}</code></h3></summary>"
            f'<ul class="reqs">{reqs or "<li class=muted>no requirement</li>"}</ul>'
            f"<pre>{text(test.message or 'no message')}</pre>{evidence_html(test.evidence)}{body}</details></section>"
        )
    more = (
        f"<p>The first {FAILURES_OPEN} are open; click a test to open its failure.</p>"
        if len(failing) > FAILURES_OPEN
        else ""
    )
    return f'<section id="failures"><h2>Failures ({len(failing)})</h2>{more}{"".join(parts)}</section>'
