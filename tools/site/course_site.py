"""Sphinx extension: how the course site reads (accessibility and small screens).

Loaded by ``_config.yml`` (``sphinx: local_extensions``). Each fix below answers a finding
of the browser test (tests/site/test_site_browser.py: axe-core, a phone-sized viewport,
dark mode) and is made where the markup comes from, rather than patched in the page:

* ``templates/``: two theme components whose accessible name did not contain their
  visible text (axe ``label-content-name-mismatch``, serious): the search field (named
  "Search" while it shows "Search Ctrl+K") and the colour-mode button (named "Color mode"
  while its icons' titles read "Light Dark System Settings").
* The fold of a ``hide-input`` cell (myst-nb's ``<summary aria-label="Toggle hidden
  content">`` around "Show code cell source"): the same mismatch. The summary is named by
  the text it shows.
* Figures: Sphinx writes an image's file name as its ``alt`` when none is given, so a
  screen reader read "../_images/9463acbe....png". An image inside a captioned figure
  without an ``alt`` of its own gets the caption's text (a cell's
  ``mystnb: image: alt:`` still wins).
* ``static/course/course.css``: narrow screens and dark mode (see the file).
* Search (``search.js``, Sphinx's ``html_search_scorer``, and :class:`ProseWordCollector`):
  the index holds the prose, not the code cells, code blocks or TeX of a page (a chapter's
  import list made every chapter that imports ``sigmoid`` a hit for "sigmoid"); a page whose
  title holds the query ranks first; excerpts are cut from prose, not from code or raw TeX.
* Icon fonts: the theme's CSS draws a few icons (admonitions, download and external links,
  breadcrumbs) with Font Awesome's web fonts, and the <i> icons it writes ask for them too
  before the site's icon script turns them into SVG: every first visit fetched fa-solid
  (156 kB) and fa-brands (118 kB). After the build, :func:`_subset_icon_fonts` writes both
  fonts cut down to the code points the theme's CSS uses (a few kB, WOFF: fontTools writes
  WOFF2 only with brotli), and ``course.css`` declares them after the theme's, so they win.
* The chapter's notebook that readers download (``_sources/<page>.ipynb``, copied by the
  theme from ``_build/jupyter_execute/``): myst-nb 1.4 writes that file from the notebook
  as read, before merging the outputs it takes from the execution cache (it writes
  ``notebook``, not ``nb_client.notebook``, in ``myst_nb/sphinx_.py``). After a change to a
  chapter's prose alone (a cache hit), the download had no outputs at all. The outputs are
  merged in from the same cache record the page was rendered from.

Nothing here loads anything from the internet.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

import nbformat
import pydata_sphinx_theme
import sphinx.search
from docutils import nodes
from fontTools import subset
from jupyter_cache import get_cache
from myst_nb.sphinx_ import HideCodeCellNode
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CSS_FILE = "course/course.css"
SEARCH_SCORER = HERE / "search.js"
THEME_FONTS = Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static/vendor/fontawesome/webfonts"
# (the theme's font, the subset written beside course.css; course.css names the subsets)
ICON_FONTS = [
    ("fa-solid-900.ttf", "course/fonts/fa-solid-900.woff"),
    ("fa-brands-400.ttf", "course/fonts/fa-brands-400.woff"),
]
# Where the theme's CSS names an icon: pydata-sphinx-theme in custom properties
# (--pst-icon-download: "\\f019"; its CSS also holds Font Awesome's whole class list, which the
# page's <i> icons would use, but those become SVG), sphinx-book-theme in a content ("\\f107").
_ICON = r'"(\\f[0-9a-f]{3}|[\uf000-\uf8ff])"'
THEME_CSS = {
    "styles/pydata-sphinx-theme.css": re.compile(r"--pst-[a-z0-9-]+\s*:\s*" + _ICON),
    "styles/sphinx-book-theme.css": re.compile(r"(?:--pst-[a-z0-9-]+|content)\s*:\s*" + _ICON),
}


def icon_code_points(css: str, pattern: re.Pattern[str]) -> set[int]:
    """The icon code points named in ``css`` where ``pattern`` looks."""
    return {int(value[1:], 16) if value.startswith("\\") else ord(value) for value in pattern.findall(css)}


def _subset_icon_fonts(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    code_points = set()
    for name, pattern in THEME_CSS.items():
        code_points |= icon_code_points((static / name).read_text(encoding="utf-8"), pattern)
    if not code_points:
        raise RuntimeError("course_site: no icon found in the theme's CSS; has the theme changed?")
    options = subset.Options()
    options.flavor = "woff"
    options.ignore_missing_unicodes = True
    for source, output in ICON_FONTS:
        font = subset.load_font(str(THEME_FONTS / source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=code_points)
        subsetter.subset(font)
        destination = static / output
        destination.parent.mkdir(parents=True, exist_ok=True)
        subset.save_font(font, str(destination), options)


class ProseWordCollector(sphinx.search.WordCollector):
    """Sphinx's search-index word collector, minus code cells, code blocks and math."""

    def dispatch_visit(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.literal_block | nodes.math | nodes.math_block):
            raise nodes.SkipNode
        if isinstance(node, nodes.container) and "cell_input" in node.get("classes", []):
            raise nodes.SkipNode
        super().dispatch_visit(node)


def _add_paths(app: Sphinx, config: Config) -> None:
    # First in templates_path, so these components win over the theme's own.
    config.templates_path.insert(0, str(TEMPLATES))
    config.html_static_path.append(str(STATIC))
    config.html_search_scorer = str(SEARCH_SCORER)
    # IndexBuilder.feed() builds its collector from this module attribute.
    sphinx.search.WordCollector = ProseWordCollector


def _visit_hidden_input(self: Any, node: HideCodeCellNode) -> None:
    """myst-nb's markup for a folded cell, minus the summary's mismatched aria-label."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def _depart_hidden_input(self: Any, node: HideCodeCellNode) -> None:
    self.body.append("</details>\n")


def _visit_citation(self: Any, node: nodes.citation) -> None:
    """docutils' bibliography entry as a list item of a list that axe-core accepts.

    docutils gives each entry the role ``doc-biblioentry`` inside a ``role="list"``
    container; ARIA 1.2 deprecates that role and axe-core then reports the list's children
    as not allowed (a critical finding on the references page). ``listitem`` is the role a
    list's children must have.
    """
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _depart_citation(self: Any, node: nodes.citation) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


class CaptionAsAlt(SphinxPostTransform):
    """Give every image of a captioned figure that has no ``alt`` the caption's text."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for figure in self.document.findall(nodes.figure):
            captions = [child for child in figure.children if isinstance(child, nodes.caption)]
            if not captions:
                continue
            text = " ".join(captions[0].astext().split())
            for image in figure.findall(nodes.image):
                if not image.get("alt"):
                    image["alt"] = text


def _restore_cached_outputs(app: Sphinx, doctree: nodes.document) -> None:
    """Put the cached outputs back into jupyter_execute/<page>.ipynb (see the module docstring)."""
    if app.config.nb_execution_mode != "cache":
        return
    path = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    if any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
        return  # executed in this build: written with its outputs
    cache = get_cache(str(Path(app.srcdir) / app.config.nb_execution_cache_path))
    try:
        _, merged = cache.merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: nothing to merge
        return
    nbformat.write(merged, path)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _add_paths)
    app.add_css_file(CSS_FILE)
    app.add_node(HideCodeCellNode, override=True, html=(_visit_hidden_input, _depart_hidden_input))
    app.add_node(nodes.citation, override=True, html=(_visit_citation, _depart_citation))
    app.add_post_transform(CaptionAsAlt)
    app.connect("doctree-read", _restore_cached_outputs)
    app.connect("build-finished", _subset_icon_fonts)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
