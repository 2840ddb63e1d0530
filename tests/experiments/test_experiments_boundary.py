"""`actgrader.experiments` is book-only: nothing in the grader imports it, so `reference` is what the checks use."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "grader" / "src" / "actgrader"
GRADER_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if PACKAGE / "experiments" not in p.parents)


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_grader_has_modules_outside_experiments():
    names = {p.relative_to(PACKAGE).parts[0] for p in GRADER_MODULES}
    assert {"reference", "tasks", "checkup", "grading", "batch"} <= names


@pytest.mark.parametrize("path", GRADER_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_grader_module_imports_the_experiments(path: Path):
    leaked = sorted(m for m in _imported_modules(path) if m.startswith("actgrader.experiments"))
    assert not leaked, f"{path.relative_to(PACKAGE)} imports {leaked}: move what it needs into actgrader.reference"
