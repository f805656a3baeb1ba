"""Count the assertions of Kong's spec files that tests/kong_specs replays: every ``@ports(spec, *lines)``
names the spec lines it ports; a line counts once per spec file however many tests or versions replay it.

    .venv/bin/python tools/count_kong_spec_asserts.py
"""

from __future__ import annotations

import importlib
import inspect
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
                out[spec].update(fn.kong_spec_lines)
    return out


def main() -> int:
    counts = ported()
    for spec, lines in sorted(counts.items()):
        print(f"{len(lines):4d}  {spec}")
    print(f"{sum(len(v) for v in counts.values()):4d}  assertions ported")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
