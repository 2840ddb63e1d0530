"""Library functions (reference and experiments) point back to the chapters that teach them (CONTRIBUTING)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import actgrader.experiments
import actgrader.reference

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    f"{package.__name__}.{info.name}"
    for package in (actgrader.reference, actgrader.experiments)
    for info in pkgutil.iter_modules(package.__path__)
)


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = {toc["root"]}
    for part in toc.get("parts", []):
        files |= {chapter["file"] for chapter in part.get("chapters", [])}
    return {f"{name}.md" for name in files}


def test_both_packages_hold_modules():
    assert any(m.startswith("actgrader.reference.") for m in MODULES)
    assert any(m.startswith("actgrader.experiments.") for m in MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_library_module_names_the_chapters_that_teach_it(name: str):
    doc = importlib.import_module(name).__doc__ or ""
    paths = set(re.findall(r"book/[a-z0-9-]+\.md", doc))
    assert paths, f"{name}: the docstring names no chapter (book/<page>.md)"
    unknown = paths - _toc_files()
    assert not unknown, f"{name} names chapters that are not in _toc.yml: {unknown}"
