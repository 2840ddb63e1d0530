#!/usr/bin/env python3
"""Copy the few JavaScript files and fonts the course site serves itself out of node_modules.

Run by ``make vendor`` after ``npm ci`` in this folder (standard library only: it runs with
the system ``python3``, before the project's virtualenv is needed). It fills ``_vendor/`` at
the repository root (generated, ignored by git), which ``_config.yml`` gives Sphinx as
``html_static_path``, so the files land under ``_build/html/_static/vendor/``. The folder is
deliberately not called ``_static``: Jupyter Book injects every .js/.css found in a
``_static`` folder into every page, and these files must load only where they are needed.

``vendor/widgets/``
    ``require.js``, ``setup.js`` (:data:`WIDGETS_SETUP_JS` below: icon fonts, MathJax 3 for
    widget labels, names for slider handles) and ``embed-amd.js``, the
    ipywidgets HTML manager: myst-nb adds the three, in that order, only to pages that hold
    widget state (``nb_ipywidgets_js`` in ``_config.yml``). The manager's Font Awesome icon
    fonts go below it twice, to ``@jupyter-widgets/`` and to
    ``@jupyter-widgets/html-manager/dist/``: the bundle holds two modules
    ("@jupyter-widgets/html-manager" and ".../html-manager/dist/libembed-amd"), each injects
    its own ``@font-face`` rules with URLs computed from its require.js module path, and which
    rule the browser uses depends on the order the two modules run in (seen: the comparison
    page requested the first folder in about one browser-test run out of three). The manager's
    ``__jupyter_widgets_assets_path__`` does not help: each module sets it only after its CSS
    is in the page. ``setup.js`` points require.js's ``baseUrl`` at this folder, so both paths
    are found at any page depth. Only the woff2 files are copied (168 kB, twice): every
    browser able to run the manager picks woff2 first.

``vendor/mathjax/``
    ``tex-mml-chtml.js`` (``mathjax_path``) and its CommonHTML woff fonts, nothing else.
    A formula that needs an autoloaded TeX extension (``\\boldsymbol``, ``\\cancel``, ...)
    would request a file that is not here, and the browser test's "no failed request" check
    reports it: add the extension to ``MATHJAX_EXTRA`` below if a chapter really needs one.
    MathJax's LICENSE goes along; require.js carries its license in its header (the widget
    manager's npm package ships no separate license file).

Not copied: ``axe-core`` (a devDependency in package.json), which only the browser test
injects into pages to audit them (tests/site/test_site_browser.py); the site never loads it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE_MODULES = HERE / "node_modules"
STATIC = ROOT / "_vendor"

WIDGETS = NODE_MODULES / "@jupyter-widgets" / "html-manager"
REQUIREJS = NODE_MODULES / "requirejs"
MATHJAX = NODE_MODULES / "mathjax"

# (source, destination relative to _vendor/)
FILES: list[tuple[Path, str]] = [
    (REQUIREJS / "require.js", "vendor/widgets/require.js"),
    (WIDGETS / "dist" / "embed-amd.js", "vendor/widgets/embed-amd.js"),
    (MATHJAX / "es5" / "tex-mml-chtml.js", "vendor/mathjax/tex-mml-chtml.js"),
    (MATHJAX / "LICENSE", "vendor/mathjax/LICENSE"),
]
# MathJax components beyond tex-mml-chtml, e.g. "input/tex/extensions/boldsymbol.js".
MATHJAX_EXTRA: list[str] = []
# (source folder, glob, destination folder relative to _vendor/)
FONTS: list[tuple[Path, str, str]] = [
    (MATHJAX / "es5/output/chtml/fonts/woff-v2", "*.woff", "vendor/mathjax/output/chtml/fonts/woff-v2"),
    (WIDGETS / "dist", "*.woff2", "vendor/widgets/@jupyter-widgets"),
    (WIDGETS / "dist", "*.woff2", "vendor/widgets/@jupyter-widgets/html-manager/dist"),
]

# Kept in this file rather than beside it so that `make vendor` (whose stamp depends on this
# script) reruns when it changes.
WIDGETS_SETUP_JS = """\
// Written by tools/vendor/copy_assets.py (edit it there). Loaded between require.js and the
// ipywidgets HTML manager (embed-amd.js) on pages with widgets (nb_ipywidgets_js in _config.yml).
(function () {
  "use strict";
  var here = new URL("./", document.currentScript.src).href;

  // 1. Icon fonts. The manager's bundle holds two modules ("@jupyter-widgets/html-manager"
  //    and ".../html-manager/dist/libembed-amd"), and each derives the URL of its icon fonts
  //    from its own module path under require.js's baseUrl, by default the page's folder
  //    (book/@jupyter-widgets/...). Point baseUrl at this folder, where copy_assets.py puts
  //    the fonts under both module paths; this works at any page depth and under any
  //    sub-path. The manager's modules are bundled, so require.js fetches nothing else.
  window.require.config({ baseUrl: here });

  // 2. The manager typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); the
  //    site runs MathJax 3, which has no Hub, so every label would throw "Cannot read
  //    properties of undefined (reading 'Queue')". Give MathJax 3 a Hub.Queue that does the
  //    same with its own API. MathJax is loaded with `defer`, so it is in place by
  //    DOMContentLoaded, and this listener runs before the manager renders the widgets.
  window.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax === undefined || mathjax.Hub !== undefined) {
      return;
    }
    mathjax.Hub = {
      Queue: function (command) {
        var element = command[2];
        if (!element || !mathjax.startup) {
          return;
        }
        mathjax.startup.promise
          .then(function () {
            return mathjax.typesetPromise([element]);
          })
          .catch(function (error) {
            console.warn("MathJax could not typeset a widget label:", error);
          });
      },
    };
  });

  // 3. The manager gives a slider's handle (the element with role="slider" that takes the
  //    keyboard) no name: screen readers announce an unnamed slider, and axe-core reports
  //    "ARIA input fields must have an accessible name" (serious). Name each handle after
  //    its widget's description label, as the widget shows it, whenever widgets render.
  var labels = 0;
  function nameSliderHandles() {
    var handles = document.querySelectorAll(".widget-slider .noUi-handle:not([aria-labelledby])");
    handles.forEach(function (handle) {
      var widget = handle.closest(".widget-slider");
      var label = widget.querySelector(":scope > .widget-label");
      if (!label || !label.textContent.trim()) {
        return;  // no description: nothing to name it by (the browser test reports it)
      }
      if (!label.id) {
        labels += 1;
        label.id = "widget-slider-label-" + labels;
      }
      handle.setAttribute("aria-labelledby", label.id);
    });
  }
  new MutationObserver(nameSliderHandles).observe(document.documentElement, { childList: true, subtree: true });
})();
"""


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
    setup = STATIC / "vendor/widgets/setup.js"
    setup.write_text(WIDGETS_SETUP_JS, encoding="utf-8")
    total += setup.stat().st_size
    print(f"copy_assets: {len(copies) + 1} files, {total / 1e6:.2f} MB into {STATIC.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
