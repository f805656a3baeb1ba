"""`make typecheck` (plain `mypy`, configured by pyproject's [tool.mypy]) is strict over the whole tree (issue 10
"Strict types and warnings"): a new Python directory, or an override that switches checks off, fails here."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# not Python sources of this repository: build output, run output, installed packages
NOT_SOURCE = {"reports", "build", "dist", "node_modules"}
# the one file mypy cannot take: under the suites/ package base it and suites/conftest.py are both `conftest`
LEFT_OUT = {Path("conftest.py")}
# what an override may say: no type information for a third-party package
OVERRIDE_KEYS = {"module", "ignore_missing_imports"}


def _mypy() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mypy"]
    return config


def _python_files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if any(
            part.startswith(".") or part in NOT_SOURCE or part.endswith(".egg-info") for part in rel.parts
        ):
            continue
        out.append(rel)
    return out


def test_mypy_is_strict() -> None:
    assert _mypy()["strict"] is True


def test_every_python_file_is_type_checked() -> None:
    checked = [Path(entry) for entry in _mypy()["files"]]
    files = _python_files()
    assert len(files) > 300  # the walk found the tree
    unchecked = [
        str(f) for f in files if f not in LEFT_OUT and not any(f == c or c in f.parents for c in checked)
    ]
    assert unchecked == []


def test_overrides_only_excuse_missing_third_party_types() -> None:
    for override in _mypy().get("overrides", []):
        assert set(override) <= OVERRIDE_KEYS, override
        modules = [override["module"]] if isinstance(override["module"], str) else override["module"]
        assert not any(m.split(".")[0] in {"kongformance", "fixtures", "tests", "tools"} for m in modules)
