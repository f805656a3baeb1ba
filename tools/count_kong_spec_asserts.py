"""Count the assertions of Kong's spec files that tests/kong_specs replays: every ``@ports(spec, *lines)``
names the spec lines it ports; a line counts once per spec file however many tests or versions replay it.

    .venv/bin/python tools/count_kong_spec_asserts.py [--verify KONG_GIT_DIR]

``--verify`` reads each spec file from a clone of Kong's repository (``git show <ref>:<path>``) and fails
when a cited line is not an assertion (``assert``) of that file.
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
    if "--verify" in sys.argv:
        git_dir = sys.argv[sys.argv.index("--verify") + 1]
        wrong = {spec: not_assertions(spec, lines, git_dir) for spec, lines in counts.items()}
        for spec, bad in wrong.items():
            if bad:
                print(f"not assertions: {spec} lines {bad}")
        if any(wrong.values()):
            return 1
    for spec, lines in sorted(counts.items()):
        print(f"{len(lines):4d}  {spec}")
    print(f"{sum(len(v) for v in counts.values()):4d}  assertions ported")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
