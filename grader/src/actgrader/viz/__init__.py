"""Plotting and widget helpers for the book's chapters.

* :class:`PrecomputedFigure` and :class:`Control` (:mod:`actgrader.viz.precomputed`): an
  ipywidgets figure that responds to its controls on the static site, without a kernel.
  Every chapter's interactive figure uses it; read that module's docstring first.
* :mod:`actgrader.viz.style`: the book's matplotlib style, :data:`ACTIVATION_COLORS`,
  :func:`new_figure` and :func:`png_bytes`.
"""

from __future__ import annotations

from actgrader.viz.precomputed import Control, PrecomputedFigure
from actgrader.viz.style import (
    ACTIVATION_COLORS,
    TARGET_COLOR,
    apply_style,
    label_axes,
    new_figure,
    png_bytes,
)

__all__ = [
    "ACTIVATION_COLORS",
    "TARGET_COLOR",
    "Control",
    "PrecomputedFigure",
    "apply_style",
    "label_axes",
    "new_figure",
    "png_bytes",
]
