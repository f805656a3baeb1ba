"""Each run's verdicts, kept: ``reports/history.jsonl`` gets one line per run (run id, target, Kong version,
start, every requirement's verdict, the deviations observed), and the report shows per requirement its last
verdicts and how often the verdict flipped (a flake count).

A report rebuilt for a run already recorded (``kongformance report`` again) does not add a second line.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kongformance.report.model import ComplianceReport

HISTORY = "history.jsonl"
LAST_N = 10
_COLOUR = {"fails": "red", "deviation": "purple", "conforms": "green"}


def entry_of(report: ComplianceReport) -> dict[str, Any]:
    """The history line of one run."""
    run = report.run
    return {
        "run_id": run.run_id,
        "target": run.target,
        "kong_version": run.kong_version,
        "started": run.started,
        "recorded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tests": len(report.tests),
        "verdicts": {r.requirement.id: r.verdict for r in report.rows},
        "deviations": sorted({d for t in report.tests for d in t.deviations}),
    }


def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    if entry.get("run_id"):
        return ("id", entry["run_id"])
    return ("facts", entry.get("started"), entry.get("target"), entry.get("tests"))


def load(path: Path) -> list[dict[str, Any]]:
    """The runs recorded in ``path``, oldest first (lines that are not a JSON object are skipped)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("verdicts"), dict):
            out.append(entry)
    return out


def record(reports_dir: Path, report: ComplianceReport) -> list[dict[str, Any]]:
    """Append this run to ``reports_dir/history.jsonl`` unless it is there already; the whole history."""
    path = Path(reports_dir) / HISTORY
    past = load(path)
    entry = entry_of(report)
    if any(_key(e) == _key(entry) for e in past):
        return past
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")
    except OSError:
        return past  # a read-only reports dir still gets its report
    return [*past, entry]


def timelines(history: list[dict[str, Any]], n: int = LAST_N) -> dict[str, list[str]]:
    """Requirement id -> its verdicts in the last ``n`` runs that recorded it, oldest first."""
    out: dict[str, list[str]] = {}
    for entry in history:
        for rid, verdict in entry["verdicts"].items():
            out.setdefault(str(rid), []).append(str(verdict))
    return {rid: v[-n:] for rid, v in out.items()}


def flips(verdicts: list[str]) -> int:
    """How many times the verdict changed from one run to the next."""
    return sum(1 for a, b in zip(verdicts, verdicts[1:], strict=False) if a != b)


def history_html(verdicts: list[str]) -> str:
    """The last verdicts as small squares (oldest first) and a flip count when the verdict changed."""
    if len(verdicts) < 2:
        return ""
    title = html.escape(f"last {len(verdicts)} runs, oldest first: " + ", ".join(verdicts), quote=True)
    marks = "".join(f'<i class="h {_COLOUR.get(v, "grey")}"></i>' for v in verdicts)
    n = flips(verdicts)
    flaky = f' <span class="badge flaky">{n} flip{"s" if n != 1 else ""}</span>' if n else ""
    return f'<div class="hist" title="{title}">{marks}{flaky}</div>'
