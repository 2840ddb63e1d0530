"""Binder opens a chapter as a notebook that runs (binder/).

Each chapter's launch button opens ``book/<chapter>.md`` (a MyST text notebook) in
JupyterLab on mybinder.org. That needs Jupytext there, set as the default viewer of
markdown, and every package the chapters import. Binder itself cannot run here, so this
checks what it will read: the pins agree with constraints.txt, every third-party module a
chapter imports is installed by binder/, the viewer named in overrides.json is one the pinned
Jupytext registers, and Jupytext (the same version, installed here) reads every chapter as a
notebook with code cells and a Python kernel.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, version
from pathlib import Path

import jupytext
import pytest
from packaging.specifiers import SpecifierSet
from sitebook import ROOT, chapters

BINDER = ROOT / "binder"
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        match = REQUIREMENT.match(raw.split("#", 1)[0].strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


BINDER_PINS = _pins(BINDER / "requirements.txt")


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


def test_binder_pins_are_the_project_s():
    constraints = _pins(ROOT / "constraints.txt")
    assert "jupytext" in BINDER_PINS and "torch" in BINDER_PINS
    for name, pinned in BINDER_PINS.items():
        assert constraints.get(name) == pinned, f"binder pins {name}=={pinned}, constraints.txt {constraints.get(name)}"


def _imports(chapter: str) -> set[str]:
    notebook = jupytext.read(ROOT / f"{chapter}.md")
    modules = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("chapter", chapters())
def test_every_module_a_chapter_imports_is_installed_on_binder(chapter: str):
    post_build = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert "pip install" in post_build and "./grader" in post_build
    providers = packages_distributions()
    missing = []
    for module in sorted(_imports(chapter) - set(sys.stdlib_module_names)):
        if module == "actgrader":
            continue  # postBuild installs ./grader
        distributions = {_normal(name) for name in providers.get(module, [])}
        if not distributions & set(BINDER_PINS):
            missing.append(f"{module} (from {sorted(distributions) or 'no installed distribution'})")
    assert missing == [], f"{chapter} imports modules binder/requirements.txt does not install: {missing}"


def test_markdown_opens_with_the_jupytext_notebook_viewer():
    overrides = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == viewers["myst"] == "Jupytext Notebook"
    assert "binder/overrides.json" in (BINDER / "postBuild").read_text(encoding="utf-8")
    assert version("jupytext") == BINDER_PINS["jupytext"], "the test reads with another Jupytext than Binder's"
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    bundles = [path.read_text(encoding="utf-8", errors="replace") for path in extension.rglob("*.js")]
    assert bundles, f"the pinned Jupytext ships no JupyterLab extension under {extension}"
    assert any('"Jupytext Notebook"' in text or "'Jupytext Notebook'" in text for text in bundles)


@pytest.mark.parametrize("chapter", chapters())
def test_jupytext_reads_the_chapter_as_a_python_notebook(chapter: str):
    notebook = jupytext.read(ROOT / f"{chapter}.md")
    assert notebook.metadata["kernelspec"]["language"] == "python"
    assert any(cell.cell_type == "code" for cell in notebook.cells), f"{chapter}: no code cell"


def test_binder_python_satisfies_the_grader():
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    requires = tomllib.loads((ROOT / "grader" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert runtime.removeprefix("python-") + ".0" in SpecifierSet(requires["requires-python"])
