"""Plotting and widget helpers for the book's chapters.

* :class:`PrecomputedFigure` and :class:`Control` (:mod:`actgrader.viz.precomputed`): an
  ipywidgets figure that responds to its controls on the static site, without a kernel.
  Every chapter's interactive figure uses it; read that module's docstring first.
* :class:`AltImage` (:mod:`actgrader.viz.image`): a PNG in a widget with alternative text,
  for figures assembled from widgets by hand (``ipywidgets.Image`` cannot carry one).
* :mod:`actgrader.viz.style`: the book's matplotlib style, :data:`ACTIVATION_COLORS`,
  :func:`new_figure` and :func:`png_bytes`.
"""

from __future__ import annotations

from actgrader.viz.image import AltImage
from actgrader.viz.precomputed import Control, PrecomputedFigure
from actgrader.viz.style import (
    ACTIVATION_COLORS,
    TARGET_COLOR,
    apply_style,
    clipped_texts,
    label_axes,
    new_figure,
    png_bytes,
)

__all__ = [
    "ACTIVATION_COLORS",
    "TARGET_COLOR",
    "AltImage",
    "Control",
    "PrecomputedFigure",
    "apply_style",
    "clipped_texts",
    "label_axes",
    "new_figure",
    "png_bytes",
]
