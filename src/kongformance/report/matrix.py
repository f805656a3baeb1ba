"""The version matrix: one row per requirement, its verdict in each run of a version (or image) matrix.

Built from each run's ``requirements-coverage.json``; rows whose verdict differs between runs come first,
so a user sees before an upgrade which requirements change. Writes ``version-matrix.json`` and a
self-contained ``version-matrix.html`` (the compliance report's style; every text redacted and escaped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kongformance.report.render import _asset, text
from kongformance.report.results import ReportInputError

VERDICT_CLASS = {"passed": "green", "failed": "red", "deviation": "purple", "skipped": "grey"}


@dataclass(frozen=True)
class MatrixRow:
    rid: str
    level: str
    statement: str
    source: str
    verdicts: tuple[str, ...]  # one per column, "absent" when a run did not list the requirement

    @property
    def changed(self) -> bool:
        return len(set(self.verdicts)) > 1


@dataclass(frozen=True)
class VersionMatrix:
    columns: tuple[str, ...]  # run labels: Kong versions or images
    rows: tuple[MatrixRow, ...]  # changed rows first, then by id
    links: tuple[str, ...] = ()  # each column's compliance report, relative to the matrix page

    def changed(self) -> list[MatrixRow]:
        return [r for r in self.rows if r.changed]

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "changed": [r.rid for r in self.changed()],
            "requirements": [
                {"id": r.rid, "level": r.level, "verdicts": dict(zip(self.columns, r.verdicts, strict=True))}
                for r in self.rows
            ],
        }


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ReportInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ReportInputError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("requirements"), list):
        raise ReportInputError(f"{path} has no requirements list")
    return doc


def build_matrix(runs: list[tuple[str, Path]], links: list[str] | None = None) -> VersionMatrix:
    """The matrix of ``runs`` (label, path of its requirements-coverage.json)."""
    docs = [(label, _load(path)) for label, path in runs]
    info: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, dict[str, str]] = {}
    for label, doc in docs:
        for req in doc["requirements"]:
            rid = str(req.get("id"))
            info.setdefault(rid, req)
            verdicts.setdefault(rid, {})[label] = str(req.get("status", "absent"))
    columns = tuple(label for label, _ in docs)
    rows = [
        MatrixRow(
            rid,
            str(info[rid].get("level", "")),
            str(info[rid].get("statement", "")),
            str(info[rid].get("source", "")),
            tuple(verdicts[rid].get(c, "absent") for c in columns),
        )
        for rid in info
    ]
    rows.sort(key=lambda r: (not r.changed, r.rid))
    return VersionMatrix(columns, tuple(rows), tuple(links or ()))


def render_matrix_html(matrix: VersionMatrix, title: str = "Kong version matrix") -> str:
    heads = "".join(
        f'<th><a href="{text(link)}">{text(c)}</a></th>' if link else f"<th>{text(c)}</th>"
        for c, link in zip(matrix.columns, matrix.links or ("",) * len(matrix.columns), strict=True)
    )
    body = []
    for row in matrix.rows:
        cells = "".join(f'<td class="{VERDICT_CLASS.get(v, "grey")}">{text(v)}</td>' for v in row.verdicts)
        mark = "changed" if row.changed else ""
        body.append(
            f'<tr class="req {mark}"><td class="id">{text(row.rid)}</td><td>{text(row.level)}</td>'
            f"<td>{text(row.statement)}<br><small>{text(row.source)}</small></td>{cells}</tr>"
        )
    changed = len(matrix.changed())
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    style = _asset("report.css") + (
        "td.green{color:var(--green)} td.red{color:var(--red);font-weight:600} td.purple{color:var(--purple)}"
        " td.grey{color:var(--grey)} tr.changed td.id{font-weight:700}"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{text(title)}</title>'
        f"<style>{style}</style></head><body><header><h1>{text(title)}</h1>"
        f"<p>{len(matrix.rows)} requirements over {len(matrix.columns)} runs; "
        f"<strong>{changed}</strong> change verdict between them (listed first).</p></header><main>"
        f'<table id="version-matrix"><thead><tr><th>ID</th><th>Level</th><th>Requirement</th>{heads}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></main>"
        f"<footer><p>Generated {text(generated)} by <code>kongformance run</code> from each run's "
        "requirements-coverage.json.</p></footer></body></html>"
    )


def write_matrix(matrix: VersionMatrix, reports: Path) -> Path:
    """Write version-matrix.json and version-matrix.html under ``reports``; returns the HTML path."""
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "version-matrix.json").write_text(json.dumps(matrix.to_json(), indent=2), "utf-8")
    out = reports / "version-matrix.html"
    out.write_text(render_matrix_html(matrix), "utf-8")
    return out
