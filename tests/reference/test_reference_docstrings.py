"""Library functions point back to the chapters that teach them (CONTRIBUTING: code flows one way)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import yaml

import actgrader.reference

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(info.name for info in pkgutil.iter_modules(actgrader.reference.__path__))


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = {toc["root"]}
    for part in toc.get("parts", []):
        files |= {chapter["file"] for chapter in part.get("chapters", [])}
    return {f"{name}.md" for name in files}


@pytest.mark.parametrize("name", MODULES)
def test_reference_module_names_the_chapters_that_teach_it(name: str):
    doc = importlib.import_module(f"actgrader.reference.{name}").__doc__ or ""
    paths = set(re.findall(r"book/[a-z0-9-]+\.md", doc))
    assert paths, f"actgrader.reference.{name}: the docstring names no chapter (book/<page>.md)"
    unknown = paths - _toc_files()
    assert not unknown, f"actgrader.reference.{name} names chapters that are not in _toc.yml: {unknown}"
