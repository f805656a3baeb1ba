"""Renders a :class:`ComplianceReport` as one self-contained HTML page (inline CSS and JS, no assets).

Every piece of text taken from the run's results goes through :func:`text` (redaction, then HTML
escaping); nothing from the results reaches the page any other way.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, datetime
from importlib import resources
from string import Template

from kongformance.report.evidence_html import evidence_html
from kongformance.report.model import (
    VERDICT_LABELS,
    VERDICTS,
    ComplianceReport,
    DeviationNote,
    RequirementVerdict,
    TestResult,
)
from kongformance.report.redaction import redact
from kongformance.requirements import FLOWS, LEVELS

TITLE = "Kong conformance report"
TESTS_SHOWN = 4  # tests listed inline in a matrix cell; more go into a <details>
DETAILS_LIMIT = 12_000  # characters of a traceback kept in the report
_RFC = re.compile(r"^RFC\s*(\d+)(?:\s+(?:section\s+|§\s*)?(\d+(?:\.\d+)*))?", re.IGNORECASE)
FLOW_LABELS = {"all": "all bearer flows"}  # the catalogue's flow "all" = every bearer flow
_VERDICT_RANK = {v: str(i) for i, v in enumerate(VERDICTS)}
_LEVEL_RANK = {v: str(i) for i, v in enumerate(LEVELS)}


def text(value: object) -> str:
    """``value`` as safe HTML text: secrets redacted, then escaped."""
    return html.escape(redact(str(value)))


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
        matrix=_matrix(report),
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
    colours = {"fails": "red", "deviation": "purple", "conforms": "green"}
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


# ---------------------------------------------------------------- the traceability matrix


def source_html(source: str) -> str:
    """A requirement's source with RFC references linked to rfc-editor.org (sections where given)."""
    parts = []
    for part in (p.strip() for p in source.split(";")):
        if not part:
            continue
        m = _RFC.match(part)
        if m:
            anchor = f"#section-{m.group(2)}" if m.group(2) else ""
            url = f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}{anchor}"
            parts.append(f'<a href="{html.escape(url)}">{text(part)}</a>')
        elif part.startswith(("https://", "http://")):
            parts.append(f'<a href="{html.escape(part)}">{text(part)}</a>')
        else:
            parts.append(text(part))
    return "; ".join(parts)


def _outcome(outcome: str) -> str:
    return f'<span class="badge {html.escape(outcome)}">{html.escape(outcome)}</span>'


def _test_item(test: TestResult, anchors: dict[str, str]) -> str:
    name = text(test.nodeid)
    if test.nodeid in anchors:
        name = f'<a href="#{anchors[test.nodeid]}">{name}</a>'
    return f"<li>{_outcome(test.outcome)} <code>{name}</code></li>"


def _tests_cell(row: RequirementVerdict, anchors: dict[str, str]) -> str:
    if not row.tests:
        return '<span class="muted">no test</span>'
    counts = Counter(t.outcome for t in row.tests)
    tally = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    items = "".join(_test_item(t, anchors) for t in row.tests)
    if len(row.tests) <= TESTS_SHOWN:
        return f'<ul class="tests">{items}</ul>'
    return (
        f'<details><summary>{len(row.tests)} tests: {tally}</summary><ul class="tests">{items}</ul></details>'
    )


def _deviation_note(note: DeviationNote, kong_version: str | None) -> str:
    if not note.recorded:
        return f'<div class="note"><code>{text(note.id)}</code>: not in the deviation registry.</div>'
    versions = text(note.kong_versions) if note.kong_versions else "all versions"
    run = f"; this run: Kong {text(kong_version)}" if kong_version else ""
    return (
        f'<div class="note"><code>{text(note.id)}</code> (recorded for Kong {versions}{run}): '
        f'{text(note.summary)} <span class="muted">[{text(note.source)}]</span></div>'
    )


def _verdict_cell(row: RequirementVerdict, kong_version: str | None) -> str:
    label = VERDICT_LABELS[row.verdict]
    cell = f'<span class="badge {row.severity}">{html.escape(label)}</span>'
    if row.verdict == "fails":
        failed = sum(1 for t in row.tests if t.failing)
        cell += (
            f'<div class="note">{failed} of {len(row.tests)} test(s) fail ({row.requirement.level}).</div>'
        )
    cell += "".join(_deviation_note(n, kong_version) for n in row.deviations)
    if row.verdict in ("skipped", "xfail"):
        reasons = row.reasons or ["no reason given"]
        cell += "".join(f'<div class="note">{text(r)}</div>' for r in reasons)
    return cell


def _row(row: RequirementVerdict, anchors: dict[str, str], kong_version: str | None) -> str:
    req = row.requirement
    flows = " ".join(req.flows)
    return (
        f'<tr class="req sev-{row.severity}" id="req-{html.escape(req.id, quote=True)}" '
        f'data-level="{html.escape(req.level)}" data-verdict="{row.verdict}" data-flows="{html.escape(flows)}">'
        f'<td class="id">{text(req.id)}</td>'
        f'<td data-sort="{_LEVEL_RANK.get(req.level, "9")}"><span class="badge {html.escape(req.level)}">'
        f"{html.escape(req.level)}</span></td>"
        f"<td>{text(req.statement)}</td>"
        f"<td>{source_html(req.source)}</td>"
        f"<td>{text(', '.join(_flow(f) for f in req.flows))}</td>"
        f'<td data-sort="{len(row.tests):05d}">{_tests_cell(row, anchors)}</td>'
        f'<td class="verdict" data-sort="{_VERDICT_RANK[row.verdict]}">{_verdict_cell(row, kong_version)}</td>'
        "</tr>"
    )


def _failure_anchors(report: ComplianceReport) -> dict[str, str]:
    return {t.nodeid: f"failure-{n}" for n, t in enumerate(report.failing_tests(), 1)}


def _flow(flow: str) -> str:
    return FLOW_LABELS.get(flow, flow)


def _group_order(flow: str) -> tuple[int, str]:
    return (FLOWS.index(flow) if flow in FLOWS else len(FLOWS), flow)


def _option(value: str, label: str) -> str:
    return f'<option value="{html.escape(value, quote=True)}">{html.escape(label)}</option>'


def _filters(report: ComplianceReport, flows: list[str]) -> str:
    levels = "".join(_option(v, v) for v in LEVELS)
    verdicts = "".join(_option(v, VERDICT_LABELS[v]) for v in VERDICTS)
    flow_opts = "".join(_option(f, _flow(f)) for f in flows)
    return (
        '<div class="filters" role="search">'
        f'<label>Level <select id="f-level"><option value="">all</option>{levels}</select></label>'
        f'<label>Verdict <select id="f-verdict"><option value="">all</option>{verdicts}</select></label>'
        f'<label>Flow <select id="f-flow"><option value="">all</option>{flow_opts}</select></label>'
        '<label>Search <input id="f-text" type="search" placeholder="ID, statement, test"></label>'
        f'<span><span id="f-shown">{len(report.rows)}</span> of {len(report.rows)} requirements shown</span>'
        "</div>"
    )


def _matrix(report: ComplianceReport) -> str:
    anchors = _failure_anchors(report)
    groups: dict[str, list[RequirementVerdict]] = {}
    for row in report.rows:
        groups.setdefault(row.requirement.flows[0] if row.requirement.flows else "other", []).append(row)
    all_flows = sorted({f for r in report.rows for f in r.requirement.flows}, key=_group_order)
    bodies = []
    for flow in sorted(groups, key=_group_order):
        rows = groups[flow]
        counts = Counter(r.verdict for r in rows)
        tally = ", ".join(f"{counts[v]} {VERDICT_LABELS[v]}" for v in VERDICTS if counts[v])
        head = f'<tr class="group"><th colspan="7">{text(_flow(flow))} <span class="muted">({tally})</span></th></tr>'
        body = "".join(_row(r, anchors, report.run.kong_version) for r in rows)
        bodies.append(f'<tbody data-group="{text(flow)}">{head}{body}</tbody>')
    columns = ["ID", "Level", "Requirement", "Source", "Flows", "Tests", "Verdict"]
    ths = "".join(f'<th class="sortable" scope="col">{c}</th>' for c in columns)
    return (
        '<section id="matrix-section"><h2>Requirement traceability</h2>'
        "<p>Grouped by each requirement's first flow; the flow filter matches any flow it applies to. "
        "Click a column heading to sort.</p>"
        + _filters(report, all_flows)
        + f'<table id="matrix"><thead><tr>{ths}</tr></thead>{"".join(bodies)}</table></section>'
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
        f'<section id="uncovered"><h2>Uncovered requirements ({len(rows)})</h2>'
        "<p>No test of this run names these requirements.</p>"
        f"<table><thead><tr><th>ID</th><th>Level</th><th>Requirement</th><th>Source</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
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
        f'<td><ul class="tests">{"".join(_test_item(t, {}) for t in tests)}</ul></td></tr>'
        for note, tests in observed
    )
    return (
        f'<section id="deviations"><h2>Deviations ({len(observed)})</h2>'
        f"<p>Kong's recorded departures from a requirement, observed in this run (Kong {version}). "
        "A recorded deviation is reported, not failed; a test fails when a recorded one no longer happens.</p>"
        "<table><thead><tr><th>Deviation</th><th>Departs from</th><th>Recorded for Kong</th><th>What Kong does</th>"
        f"<th>Source</th><th>Observed by</th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def _failures(report: ComplianceReport) -> str:
    failing = report.failing_tests()
    if not failing:
        return '<section id="failures"><h2>Failures</h2><p>No test failed.</p></section>'
    anchors = _failure_anchors(report)
    statements = {r.requirement.id: r.requirement for r in report.rows}
    parts = []
    for test in failing:
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
        parts.append(
            f'<section class="failure" id="{anchors[test.nodeid]}"><h3>{_outcome(test.outcome)} '
            f"<code>{text(test.nodeid)}</code></h3>"
            f'<ul class="reqs">{reqs or "<li class=muted>no requirement</li>"}</ul>'
            f"<pre>{text(test.message or 'no message')}</pre>{evidence_html(test.evidence)}{body}</section>"
        )
    return f'<section id="failures"><h2>Failures ({len(failing)})</h2>{"".join(parts)}</section>'
