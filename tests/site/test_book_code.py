"""What a chapter's page shows of its code (CONTRIBUTING, "A chapter's skeleton").

Read from the chapters' MyST sources with MyST-NB's own reader, so no build is needed: the
imports are folded (``hide-cell``), bookkeeping (``glue``) lives in cells the page removes,
and every line of code the page can show (unfolded ``hide-input``/``hide-cell`` code
included) fits the content column.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from myst_nb.core.read import read_myst_markdown_notebook
from sitebook import ROOT, chapters

#: The content column at 1280 px holds 77 characters of code (CONTRIBUTING); one to spare.
MAX_SHOWN_LINE = 76
#: Tags after which the page shows no code of the cell.
CODE_REMOVED = {"remove-cell", "remove-input"}


def _code_cells(page: str) -> list[tuple[int, list[str], str]]:
    """(number from 1, tags, source) of every code cell of a chapter, in order."""
    text = Path(ROOT / f"{page}.md").read_text(encoding="utf-8")
    notebook = read_myst_markdown_notebook(text)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [(n, list(cell.metadata.get("tags", [])), cell.source) for n, cell in enumerate(cells, start=1)]


def _shown(page: str) -> list[tuple[int, list[str], str]]:
    return [cell for cell in _code_cells(page) if not CODE_REMOVED & set(cell[1])]


def _glue_calls(source: str) -> list[int]:
    """Line numbers of the calls to ``glue(...)`` in a cell's source."""
    tree = ast.parse(source)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "glue"
    ]


# Chapters with code: the introduction and the back matter have none.
CODE_CHAPTERS = [page for page in chapters() if _code_cells(page)]


def test_chapters_are_found():
    assert len(CODE_CHAPTERS) >= 10, CODE_CHAPTERS


@pytest.mark.parametrize("page", CODE_CHAPTERS)
def test_first_code_cell_is_folded(page: str):
    """The imports and set-up (the first code cell) are folded: "Show code cell content"."""
    _, tags, source = _code_cells(page)[0]
    assert "import" in source, f"{page}: the first code cell holds no imports"
    assert "hide-cell" in tags, f"{page}: the first code cell (imports) is not tagged hide-cell: {tags}"


@pytest.mark.parametrize("page", CODE_CHAPTERS)
def test_shown_code_fits_the_column(page: str):
    too_long = [
        f"cell {number}: {len(line)} chars: {line}"
        for number, _, source in _shown(page)
        for line in source.splitlines()
        if len(line) > MAX_SHOWN_LINE
    ]
    assert not too_long, f"{page}: lines of shown code longer than {MAX_SHOWN_LINE}:\n" + "\n".join(too_long)


@pytest.mark.parametrize("page", CODE_CHAPTERS)
def test_no_glue_in_shown_code(page: str):
    """glue(...) is bookkeeping: it belongs in a remove-cell cell right after the computation."""
    shown = _shown(page)
    assert shown, f"{page} shows no code at all"
    found = [f"cell {number}, line {line}" for number, _, source in shown for line in _glue_calls(source)]
    assert not found, f"{page}: glue calls in cells the page shows: {found}"


def test_the_checks_see_a_long_line_and_a_glue_call():
    """The helpers above find what they look for (the tests would pass vacuously otherwise)."""
    assert _glue_calls("x = 1\nglue('x', x, display=False)\n") == [2]
    assert _glue_calls("from myst_nb import glue\nprint(glue)\n") == []
    notebook = read_myst_markdown_notebook(
        "```{code-cell} ipython3\n:tags: [remove-cell]\n\nglue('a', 1)\n```\n\n```{code-cell} ipython3\nprint(1)\n```\n"
    )
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells if cell.cell_type == "code"]
    assert tags == [["remove-cell"], []]
