"""Count the assertions of Kong's spec files that tests/kong_specs replays: every ``@ports(spec, *lines)``
names the spec lines it ports; a line counts once per spec file however many tests or versions replay it.
Per spec file: the assertions that agree (ported and not marked ``disagrees``), that disagree (ported, a
strict xfail saying why) and that cannot run over HTTP (``cannot_run``), from tests/kong_specs/cite.py.

    .venv/bin/python tools/count_kong_spec_asserts.py [--verify KONG_GIT_DIR]

``--verify`` reads each spec file from a clone of Kong's repository (``git show <ref>:<path>``) and fails
when a cited line (ported or cannot run) is not an assertion (``assert``) of that file.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ported() -> dict[str, set[int]]:
    """Spec URL -> the lines its replay ports (importing every test module also fills cite's registries)."""
    sys.path.insert(0, str(ROOT))
    out: dict[str, set[int]] = defaultdict(set)
    for path in sorted((ROOT / "tests" / "kong_specs").glob("test_*.py")):
        module = importlib.import_module(f"tests.kong_specs.{path.stem}")
        for _, fn in inspect.getmembers(module, inspect.isfunction):
            spec = getattr(fn, "kong_spec", None)
            if spec:
                out[spec].update(vars(fn)["kong_spec_lines"])
    return out


def not_assertions(spec: str, lines: set[int], git_dir: str) -> list[int]:
    """The cited ``lines`` of ``spec`` (a github blob URL) that hold no assertion."""
    ref, path = spec.split("/blob/", 1)[1].split("/", 1)
    text = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{ref}:{path}"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return sorted(n for n in lines if n > len(text) or "assert" not in text[n - 1])


def main() -> int:
    counts = ported()
    cite = importlib.import_module("tests.kong_specs.cite")
    disagree: dict[str, dict[int, str]] = cite.DISAGREE
    cannot: dict[str, dict[int, str]] = cite.CANNOT_RUN
    specs = sorted(set(counts) | set(cannot))
    if "--verify" in sys.argv:
        git_dir = sys.argv[sys.argv.index("--verify") + 1]
        wrong = {s: not_assertions(s, counts.get(s, set()) | set(cannot.get(s, {})), git_dir) for s in specs}
        for spec, bad in wrong.items():
            if bad:
                print(f"not assertions: {spec} lines {bad}")
        both = {s: sorted(counts.get(s, set()) & set(cannot.get(s, {}))) for s in specs}
        for spec, bad in both.items():
            if bad:
                print(f"both ported and cannot run: {spec} lines {bad}")
        if any(wrong.values()) or any(both.values()):
            return 1
    totals = [0, 0, 0]
    print(" agree  disagree  cannot run  spec")
    for spec in specs:
        lines = counts.get(spec, set())
        row = (
            len(lines - set(disagree.get(spec, {}))),
            len(lines & set(disagree.get(spec, {}))),
            len(cannot.get(spec, {})),
        )
        totals = [t + n for t, n in zip(totals, row, strict=True)]
        print(f"{row[0]:6d}  {row[1]:8d}  {row[2]:10d}  {spec}")
    print(
        f"{totals[0]:6d}  {totals[1]:8d}  {totals[2]:10d}  total ({totals[0] + totals[1]} assertions ported)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
