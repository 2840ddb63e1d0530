"""A PNG in a widget, with alternative text: :class:`AltImage`.

``ipywidgets.Image`` cannot carry alternative text. It has no ``alt``, and setting its
``tooltip`` (which other widgets turn into a ``title``) breaks it: in ipywidgets 8.1 the
view reads a ``description`` that images do not have, fails to render, and the browser
console logs "Could not create a view for model id ..." (in JupyterLab and on the static
site alike). A figure without words is lost to a reader using a screen reader, and axe-core
reports it as a critical violation, so the book's interactive figures show their images
with :class:`AltImage` instead: an ``ipywidgets.HTML`` whose value is an ``<img>`` with an
``alt`` and the PNG as a ``data:`` URI. On a static page this weighs the same as an
``Image`` (the embedded widget state holds both as base64).
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

import ipywidgets as widgets

# Never wider than its box; exact pixels otherwise, so that layers drawn with the same
# geometry stay aligned when stacked.
_STYLE = "display:block;max-width:100%;height:auto"


class AltImage(widgets.HTML):
    """An ``<img>`` of ``png`` with alternative text ``alt``, as an ``ipywidgets.HTML``.

    ``width`` (a CSS length, e.g. ``"100%"``) stretches the image; by default it keeps its
    pixel size (never wider than its box). Other keyword arguments go to ``widgets.HTML``
    (``layout=...``). ``png`` and ``alt`` stay readable on the Python side.
    """

    def __init__(self, png: bytes, alt: str, *, width: str | None = None, **kwargs: Any) -> None:
        if not png.startswith(b"\x89PNG"):
            raise TypeError("AltImage shows PNG bytes")
        if not alt.strip():
            raise ValueError("an image needs alternative text: say in a few words what it shows")
        style = _STYLE if width is None else f"{_STYLE};width:{escape(width, quote=True)}"
        data = base64.b64encode(png).decode("ascii")
        value = f'<img src="data:image/png;base64,{data}" alt="{escape(alt.strip(), quote=True)}" style="{style}">'
        super().__init__(value=value, **kwargs)
        self.png = png
        self.alt = alt.strip()
