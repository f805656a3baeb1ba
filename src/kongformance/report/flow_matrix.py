"""The flow x requirement matrix of the compliance report, and the summary per flow above it.

One row per requirement: its ID, level, overall verdict and statement (source, tests and deviation notes
folded beneath), then one cell per flow (:data:`flows.COLUMNS`) holding its verdict on that flow; a flow it
does not apply to and was not tested on stays empty. The filters (level, verdict, flow, text) keep a row
when it applies to the chosen flow, so "all bearer flows" rows stay under every bearer flow; the shown
counts follow the filters (report.js).
"""

from __future__ import annotations

import html
from collections import Counter

from kongformance.report import flows
from kongformance.report.history import history_html
from kongformance.report.html_text import flow_label, source_html, test_item, text
from kongformance.report.model import (
    VERDICT_LABELS,
    VERDICTS,
    ComplianceReport,
    DeviationNote,
    RequirementVerdict,
    lacking,
    unchecked_label,
)
from kongformance.requirements import LEVELS
from kongformance.run_checks import DEPARTURE

TESTS_SHOWN = 4  # tests listed before the rest fold into a <details>
_VERDICT_RANK = {v: str(i) for i, v in enumerate(VERDICTS)}
_LEVEL_RANK = {v: str(i) for i, v in enumerate(LEVELS)}
_SHORT = {
    "fails": "fail",
    "open": "open",
    "deviation": "dev",
    "conforms": "ok",
    "unchecked": "lacks",
    "xfail": "xfail",
    "skipped": "skip",
}
_COLOURS = {
    "fails": "red",
    "open": "open",
    "deviation": "purple",
    "conforms": "green",
    "unchecked": "unchecked",
}
_HEAD = {
    "guard": "guard",
    "issuer": "issuer",
    "oidc-bearer": "oidc bearer",
    "oidc-introspection": "oidc introsp.",
    "oidc-kong-oauth2": "oidc kong_oauth2",
    "oauth2": "oauth2",
    "oauth2-introspection": "oauth2-introsp.",
    "upstream-oauth": "upstream-oauth",
    "jwt": "jwt",
    flows.UNNAMED: "flow not named",
}


def _folded(row: RequirementVerdict, anchors: dict[str, str], kong_version: str | None) -> str:
    """Source, flows, notes and tests of a row, folded (the row shows ID, verdict and statement)."""
    req = row.requirement
    counts = Counter(t.outcome for t in row.tests)
    tally = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    what = f"{len(row.tests)} test(s): {tally}" if row.tests else "no test"
    if row.deviations:
        what += f"; {len(row.deviations)} deviation note(s)"
    items = "".join(test_item(t, anchors) for t in row.tests)
    tests = f'<ul class="tests">{items}</ul>' if items else ""
    return (
        f'<details class="row"><summary>{what}</summary>'
        f'<div class="note">Source: {source_html(req.source)}; flows: '
        f"{text(', '.join(flow_label(f) for f in req.flows))}</div>"
        f"{_notes(row, kong_version)}{tests}</details>"
    )


def _deviation_note(note: DeviationNote, kong_version: str | None) -> str:
    if not note.recorded:
        return f'<div class="note"><code>{text(note.id)}</code>: not in the deviation registry.</div>'
    versions = text(note.kong_versions) if note.kong_versions else "all versions"
    run = f"; this run: Kong {text(kong_version)}" if kong_version else ""
    return (
        f'<div class="note"><code>{text(note.id)}</code> (recorded for Kong {versions}{run}): '
        f'{text(note.summary)} <span class="muted">[{source_html(note.source)}]</span></div>'
    )


def _notes(row: RequirementVerdict, kong_version: str | None) -> str:
    out = ""
    if row.verdict == "fails":
        failed = sum(1 for t in row.tests if t.failing)
        out += f'<div class="note">{failed} of {len(row.tests)} test(s) fail ({row.requirement.level}).</div>'
    out += "".join(_deviation_note(n, kong_version) for n in row.deviations)
    if row.verdict == "unchecked":
        out += f'<div class="note">Not checked on this target: {text(row.label)}.</div>'
    if row.verdict in ("skipped", "xfail", "unchecked"):
        out += "".join(f'<div class="note">{text(r)}</div>' for r in row.reasons or ["no reason given"])
    return out


def _cell(flow: str, verdict: str | None, applies: bool, caps: tuple[str, ...] = ()) -> str:
    if verdict is None:
        return '<td class="flow na" data-sort="9"></td>'
    if verdict == "not-covered":  # it applies here, but no test of the run ran on this flow
        title = html.escape(f"{flow_label(flow)}: no test of this run checked it on this flow", quote=True)
        return (
            f'<td class="flow" data-flow="{html.escape(flow)}" data-cell="{verdict}" '
            f'data-sort="{_VERDICT_RANK[verdict]}" title="{title}"><span class="untested">no test</span></td>'
        )
    colour = _COLOURS.get(verdict, "grey")
    extra = "" if applies else " (tested, not in the catalogue's flows)"
    label = unchecked_label(caps) if verdict == "unchecked" else VERDICT_LABELS[verdict]
    title = html.escape(f"{flow_label(flow)}: {label}{extra}", quote=True)
    what = ", ".join(c for c in caps if c != DEPARTURE) or ("departure" if caps else "")
    cap = f'<span class="cap">{html.escape(what)}</span>' if verdict == "unchecked" and what else ""
    return (
        f'<td class="flow" data-flow="{html.escape(flow)}" data-cell="{verdict}" '
        f'data-sort="{_VERDICT_RANK[verdict]}" title="{title}">'
        f'<span class="badge {colour}">{_SHORT[verdict]}</span>{cap}</td>'
    )


def _cells(row: RequirementVerdict, report: ComplianceReport) -> str:
    verdicts = flows.cells(row, report.departs)
    grouped = flows.by_flow(row.requirement, row.tests)
    applies = flows.applicable(row.requirement)
    out = ""
    for f in flows.COLUMNS:
        verdict = verdicts.get(f)
        caps = (lacking(grouped.get(f, [])) or row.lacking) if verdict == "unchecked" else ()
        out += _cell(f, verdict, f in applies, caps)
    return out


def _row(row: RequirementVerdict, report: ComplianceReport, anchors: dict[str, str]) -> str:
    req = row.requirement
    cells = flows.cells(row, report.departs)
    applies = flows.applicable(req)
    data_flows = " ".join(dict.fromkeys([*req.flows, *applies, *cells]))
    label = row.label
    return (
        f'<tr class="req sev-{row.severity}" id="req-{html.escape(req.id, quote=True)}" '
        f'data-level="{html.escape(req.level)}" data-verdict="{row.verdict}" data-flows="{html.escape(data_flows)}">'
        f'<td class="verdict" data-sort="{_VERDICT_RANK[row.verdict]}{_LEVEL_RANK.get(req.level, "9")}">'
        f'<div class="id">{text(req.id)}</div>'
        f'<span class="badge {html.escape(req.level)}">{html.escape(req.level)}</span> '
        f'<span class="badge {row.severity}">{html.escape(label)}</span>'
        f"{history_html(report.history.get(req.id, []))}"
        f'<div class="statement">{text(req.statement)}</div>'
        f"{_folded(row, anchors, report.run.kong_version)}</td>" + _cells(row, report) + "</tr>"
    )


def _option(value: str, label: str) -> str:
    return f'<option value="{html.escape(value, quote=True)}">{html.escape(label)}</option>'


def _filters(report: ComplianceReport) -> str:
    levels = "".join(_option(v, v) for v in LEVELS)
    verdicts = "".join(_option(v, VERDICT_LABELS[v]) for v in VERDICTS)
    flow_opts = "".join(_option(f, _HEAD.get(f, f)) for f in flows.COLUMNS)
    return (
        '<div class="filters" role="search">'
        f'<label>Level <select id="f-level"><option value="">all</option>{levels}</select></label>'
        f'<label>Verdict <select id="f-verdict"><option value="">all</option>{verdicts}</select></label>'
        f'<label>Flow <select id="f-flow"><option value="">all</option>{flow_opts}</select></label>'
        '<label>Search <input id="f-text" type="search" placeholder="ID, statement, test"></label>'
        f'<span><span id="f-shown">{len(report.rows)}</span> of {len(report.rows)} requirements shown: '
        '<span id="f-counts"></span></span>'
        "</div>"
    )


def _count(n: int, verdict: str) -> str:
    if not n:
        return '<td class="n"></td>'
    return f'<td class="n"><span class="c-{_COLOURS.get(verdict, "grey")}">{n}</span></td>'


def flow_summary(report: ComplianceReport) -> str:
    """Per flow: how many requirements apply and their verdicts on it."""
    summary = flows.flow_summary(report.rows, report.departs)
    head = "".join(f"<th>{html.escape(VERDICT_LABELS[v])}</th>" for v in VERDICTS)
    body = ""
    for flow, counts in summary.items():
        tds = "".join(_count(counts[v], v) for v in VERDICTS)
        link = f'<a href="?flow={html.escape(flow, quote=True)}#matrix-section">{html.escape(_HEAD.get(flow, flow))}</a>'
        body += f"<tr><th scope=row>{link}</th><td class=n>{sum(counts.values())}</td>{tds}</tr>"
    return (
        '<section id="flows"><h2>Per flow</h2>'
        "<p>Requirements that apply to each flow (catalogue flow <em>all</em> = every bearer flow) and their "
        "verdict on it. A requirement that fails on one flow fails overall.</p>"
        f'<table class="flows"><thead><tr><th>Flow</th><th>requirements</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def matrix(report: ComplianceReport, anchors: dict[str, str]) -> str:
    heads = "".join(
        f'<th class="sortable flow" scope="col" title="{html.escape(flow_label(f), quote=True)}">'
        f"{html.escape(_HEAD.get(f, f))}</th>"
        for f in flows.COLUMNS
    )
    rows = "".join(_row(r, report, anchors) for r in report.rows)
    counts = report.verdict_counts()
    tally = ", ".join(f"{n} {VERDICT_LABELS[v]}" for v, n in counts.items() if n)
    return (
        '<section id="matrix-section"><details id="matrix-details">'
        f"<summary><h2>Requirements by flow</h2> <span class=muted>({len(report.rows)}: {tally})</span></summary>"
        "<p>One row per requirement; one column per flow, each cell its verdict on that flow (empty: the "
        "requirement does not apply there; <em>no test</em>: it applies, but no test of this run ran on that flow). The flow filter keeps every requirement that applies to the "
        "flow, <em>all bearer flows</em> ones included. Click a heading to sort; open a row's details for its "
        "source, notes and tests.</p>"
        + _filters(report)
        + f'<table id="matrix"><thead><tr><th class="sortable" scope="col">Requirement</th>{heads}</tr></thead>'
        f"<tbody>{rows}</tbody></table></details></section>"
    )
