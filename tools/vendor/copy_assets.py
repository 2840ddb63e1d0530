#!/usr/bin/env python3
"""Build and copy the JavaScript, CSS and fonts the course site serves itself (no CDN).

Run by ``make vendor`` after ``npm ci`` in this folder (standard library only: it runs with
the system ``python3``, before the project's virtualenv is needed). It fills ``_vendor/`` at
the repository root (generated, ignored by git), which ``_config.yml`` gives Sphinx as
``html_static_path``, so the files land under ``_build/html/_static/``. The folder is
deliberately not called ``_static``: Jupyter Book injects every .js/.css found in a
``_static`` folder into every page, and these files must load only where they are needed.

Light pages are the point (issue 13: the first visit of a chapter was about 2.5 MB gzipped).
Two files are bundled here with esbuild (a devDependency) from ``src/``:

``vendor/widgets/widgets.js`` and ``widgets.css`` (``src/widgets.js``)
    A small widget manager over the real ipywidgets 8 views (@jupyter-widgets/base and
    controls): it renders the widget state a page embeds, and myst-nb adds it only to pages
    that hold widget state (``nb_ipywidgets_js`` in ``_config.yml``). It replaces the HTML
    manager's ``embed-amd.js`` (3.6 MB, 918 kB gzipped, plus require.js and Font Awesome's
    icon fonts), which also carries an Output widget with JupyterLab's rendermime, a schema
    validator and the ipywidgets 7 controls; the book uses none of them. ``sanitize-html`` is
    replaced by ``src/sanitize-html.js`` (see there). About 160 kB gzipped.

``scripts/fontawesome.js`` (``src/fontawesome.js``)
    The theme's icons: pydata-sphinx-theme serves Font Awesome's every icon (1.5 MB, 543 kB
    gzipped) under this name on every page; this file, under the same name in
    ``html_static_path``, takes its place with only the icons the theme shows (about 21 kB
    gzipped). The browser test fails on any page where an icon was left unreplaced.

``vendor/mathjax/``
    ``tex-chtml.js`` (``mathjax_path``: TeX input and CommonHTML output, not the MathML input
    of ``tex-mml-chtml.js``) and its CommonHTML woff fonts, nothing else. A formula that needs
    an autoloaded TeX extension (``\\boldsymbol``, ``\\cancel``, ...) would request a file that
    is not here, and the browser test's "no failed request" check reports it: add the
    extension to ``MATHJAX_EXTRA`` below if a chapter really needs one. MathJax's LICENSE goes
    along; the bundles carry their packages' licenses (``*.LEGAL.txt`` beside them, or in
    their last comment).

Not copied: ``axe-core`` (a devDependency in package.json), which only the browser test
injects into pages to audit them (tests/site/test_site_browser.py); the site never loads it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE_MODULES = HERE / "node_modules"
SOURCES = HERE / "src"
STATIC = ROOT / "_vendor"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
ESBUILD_FLAGS = ["--bundle", "--minify", "--format=iife", "--target=es2020", "--log-level=warning"]

MATHJAX = NODE_MODULES / "mathjax"

# (source, destination relative to _vendor/)
FILES: list[tuple[Path, str]] = [
    (MATHJAX / "es5" / "tex-chtml.js", "vendor/mathjax/tex-chtml.js"),
    (MATHJAX / "LICENSE", "vendor/mathjax/LICENSE"),
]
# MathJax components beyond tex-chtml, e.g. "input/tex/extensions/boldsymbol.js".
MATHJAX_EXTRA: list[str] = []
# (source folder, glob, destination folder relative to _vendor/)
FONTS: list[tuple[Path, str, str]] = [
    (MATHJAX / "es5/output/chtml/fonts/woff-v2", "*.woff", "vendor/mathjax/output/chtml/fonts/woff-v2"),
]
# (entry point in src/, output relative to _vendor/, extra esbuild flags)
BUNDLES: list[tuple[str, str, list[str]]] = [
    (
        "widgets.js",
        "vendor/widgets/widgets.js",
        ["--legal-comments=external", f"--alias:sanitize-html={SOURCES / 'sanitize-html.js'}"],
    ),
    ("fontawesome.js", "scripts/fontawesome.js", ["--legal-comments=eof"]),
]


def _bundle(entry: str, output: str, flags: list[str]) -> int:
    """esbuild ``src/<entry>`` into ``_vendor/<output>``; the bytes written (CSS included)."""
    if not ESBUILD.is_file():
        sys.exit(f"copy_assets: {ESBUILD} is missing; run `npm ci` in {HERE} first (or `make vendor`).")
    destination = STATIC / output
    command = [str(ESBUILD), str(SOURCES / entry), *ESBUILD_FLAGS, *flags, f"--outfile={destination}"]
    subprocess.run(command, cwd=HERE, check=True)
    stem = destination.with_suffix("")
    return sum(path.stat().st_size for path in destination.parent.glob(stem.name + ".*"))


def _copy(source: Path, destination: Path) -> int:
    if not source.is_file():
        sys.exit(f"copy_assets: {source} is missing; run `npm ci` in {HERE} first (or `make vendor`).")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination.stat().st_size


def main() -> int:
    # Start empty, so that nothing stale from an older package version survives.
    if STATIC.exists():
        shutil.rmtree(STATIC)
    STATIC.mkdir()
    copies = [(source, STATIC / name) for source, name in FILES]
    copies += [(MATHJAX / "es5" / name, STATIC / "vendor/mathjax" / name) for name in MATHJAX_EXTRA]
    for folder, pattern, destination in FONTS:
        fonts = sorted(folder.glob(pattern))
        if not fonts:
            sys.exit(f"copy_assets: no {pattern} in {folder}; has the layout of the npm package changed?")
        copies += [(font, STATIC / destination / font.name) for font in fonts]
    total = sum(_copy(source, destination) for source, destination in copies)
    total += sum(_bundle(entry, output, flags) for entry, output, flags in BUNDLES)
    where = STATIC.relative_to(ROOT)
    print(f"copy_assets: {len(copies)} files and {len(BUNDLES)} bundles, {total / 1e6:.2f} MB into {where}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
