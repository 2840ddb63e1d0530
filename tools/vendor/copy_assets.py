#!/usr/bin/env python3
"""Copy the few JavaScript files and fonts the course site serves itself out of node_modules.

Run by ``make vendor`` after ``npm ci`` in this folder (standard library only: it runs with
the system ``python3``, before the project's virtualenv is needed). It writes two generated
folders at the repository root, both ignored by git:

``_vendor/``
    Sphinx's ``html_static_path`` (so the files land under ``_build/html/_static/``).
    Deliberately not named ``_static``: Jupyter Book injects every .js/.css found in a
    ``_static`` folder into every page, and these files must load only where needed.

    * ``vendor/widgets/require.js`` and ``vendor/widgets/embed-amd.js``: the ipywidgets HTML
      manager (myst-nb adds them only to pages that hold widget state, see ``nb_ipywidgets_js``
      in ``_config.yml``);
    * ``vendor/mathjax/tex-mml-chtml.js`` and its CommonHTML woff fonts (``mathjax_path``).
      Only the combined component is copied, not MathJax's extensions: a formula that needs
      an autoloaded TeX extension (``\\boldsymbol``, ``\\cancel``, ...) would request a file
      that is not here, and the browser test's "no failed request" check reports it. Add the
      extension to ``MATHJAX_EXTRA`` below if a chapter really needs one.

``_extra/``
    Sphinx's ``html_extra_path`` (copied to the site root). The widget manager's CSS loads the
    Font Awesome icon fonts from ``/@jupyter-widgets/html-manager/dist/`` (a path computed
    from require.js's module URL), so they must sit there. Only the woff2 files are copied:
    every browser that runs the widget manager picks woff2 first.

MathJax's LICENSE goes along with it; require.js carries its license in its header (the
widget manager's npm package ships no separate license file).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE_MODULES = HERE / "node_modules"
STATIC = ROOT / "_vendor"
EXTRA = ROOT / "_extra"

WIDGETS = NODE_MODULES / "@jupyter-widgets" / "html-manager"
REQUIREJS = NODE_MODULES / "requirejs"
MATHJAX = NODE_MODULES / "mathjax"

# (source, destination) pairs; destinations are relative to _vendor/ or _extra/.
STATIC_FILES: list[tuple[Path, str]] = [
    (REQUIREJS / "require.js", "vendor/widgets/require.js"),
    (WIDGETS / "dist" / "embed-amd.js", "vendor/widgets/embed-amd.js"),
    (MATHJAX / "es5" / "tex-mml-chtml.js", "vendor/mathjax/tex-mml-chtml.js"),
    (MATHJAX / "LICENSE", "vendor/mathjax/LICENSE"),
]
# MathJax components beyond tex-mml-chtml, e.g. "input/tex/extensions/boldsymbol.js".
MATHJAX_EXTRA: list[str] = []
MATHJAX_FONTS = "es5/output/chtml/fonts/woff-v2"
WIDGET_FONT_DIR = "@jupyter-widgets/html-manager/dist"


def _copy(source: Path, destination: Path) -> int:
    if not source.is_file():
        sys.exit(f"copy_assets: {source} is missing; run `npm ci` in {HERE} first (or `make vendor`).")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination.stat().st_size


def _fresh(folder: Path) -> None:
    """Empty the generated folder (keeping nothing stale from an older package version)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()


def main() -> int:
    _fresh(STATIC)
    _fresh(EXTRA)
    total = 0
    for source, name in STATIC_FILES:
        total += _copy(source, STATIC / name)
    for name in MATHJAX_EXTRA:
        total += _copy(MATHJAX / "es5" / name, STATIC / "vendor" / "mathjax" / name)
    fonts = sorted((MATHJAX / MATHJAX_FONTS).glob("*.woff"))
    for font in fonts:
        total += _copy(font, STATIC / "vendor/mathjax/output/chtml/fonts/woff-v2" / font.name)
    icons = sorted((WIDGETS / "dist").glob("*.woff2"))
    for icon in icons:
        total += _copy(icon, EXTRA / WIDGET_FONT_DIR / icon.name)
    if not fonts or not icons:
        sys.exit("copy_assets: no fonts found; has the layout of the npm packages changed?")
    count = len(STATIC_FILES) + len(MATHJAX_EXTRA) + len(fonts) + len(icons)
    print(f"copy_assets: {count} files, {total / 1e6:.2f} MB into {STATIC.name}/ and {EXTRA.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
