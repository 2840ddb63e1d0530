"""One look for every figure in the book, and small PNGs for the widgets.

* :data:`ACTIVATION_COLORS`: the colour of each activation, the same in every chapter;
* :func:`new_figure`: a figure of the book's usual size with the course's style applied;
* :func:`png_bytes`: a figure rendered to a small PNG (palette-quantized), for
  :class:`actgrader.viz.PrecomputedFigure` and anything else that embeds images in a page.
  It refuses a figure whose text runs off its edge (:func:`clipped_texts`): a frame drawn
  with a layout frozen before its labels existed loses its title, its y label and the first
  digit of its tick labels, and nobody sees it until the page is read.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image

# One colour per activation, used by every chapter (the Okabe-Ito colour-blind-safe palette,
# plus grey, brown and olive for the rarer ones, and Paul Tol's muted colours for the rest
# of the family). "linear" means no activation.
ACTIVATION_COLORS: Mapping[str, str] = {
    "linear": "#7f7f7f",
    "relu": "#0072b2",
    "leaky_relu": "#56b4e9",
    "elu": "#8c564b",
    "gelu": "#cc79a7",
    "silu": "#e69f00",
    "sigmoid": "#d55e00",
    "tanh": "#009e73",
    "softsign": "#999933",
    "softmax": "#000000",
    "softplus": "#6a3d9a",
    # the rest of the family (Paul Tol's muted palette, also colour-blind safe)
    "prelu": "#332288",
    "rrelu": "#88ccee",
    "celu": "#a6761d",
    "mish": "#aa4499",
    "relu6": "#117733",
    "hard_sigmoid": "#882255",
    "hard_swish": "#44aa99",
}
TARGET_COLOR = "#000000"

STYLE: Mapping[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.0,
    "figure.constrained_layout.use": True,
}


def apply_style() -> None:
    """Set the book's matplotlib style for the rest of the session (chapters call it once)."""
    mpl.rcParams.update(STYLE)


def new_figure(ncols: int = 1, *, width: float = 6.4, height: float = 3.2, **kwargs: Any) -> tuple[Figure, Any]:
    """``plt.subplots(1, ncols)`` with the book's size and style; returns ``(fig, ax_or_axes)``."""
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(1, ncols, figsize=(width, height), **kwargs)
        # The first pyplot figure of a Jupyter kernel activates the inline backend, which turns
        # interactive mode on; rc_context would restore rcParams["interactive"] to off on exit,
        # and every later figure of the notebook would then never be displayed.
        interactive = mpl.is_interactive()
    mpl.interactive(interactive)
    return fig, axes


def label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def png_bytes(fig: Figure, *, dpi: float = 80, colors: int | None = 96) -> bytes:
    """The figure as PNG bytes, optionally reduced to a palette of ``colors`` colours.

    Line plots use few colours, so a palette PNG is typically 3-4x smaller than the RGBA one
    with no visible difference; that keeps a widget with a few dozen frames well under the
    per-page budget. ``colors=None`` keeps full colour (photos, heat maps).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    clipped = clipped_texts(fig, drawn=True)
    if clipped:
        raise ValueError(
            "text runs off the edge of the figure: " + "; ".join(clipped) + ". Leave room for it "
            "(constrained layout, or fig.subplots_adjust margins when the layout is frozen)"
        )
    if colors is None:
        return buffer.getvalue()
    buffer.seek(0)
    with Image.open(buffer) as image:
        paletted = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        paletted.save(out, format="png", optimize=True)
    return out.getvalue()


def _text_boxes(fig: Figure, renderer: Any) -> list[tuple[str, Bbox]]:
    """(what, window extent) of every piece of text the figure draws: titles, axis labels and
    tick labels (by axis, the ticks actually drawn), legends and figure-level texts."""
    boxes: list[tuple[str, Bbox]] = []
    for number, ax in enumerate(fig.axes, start=1):
        if not ax.get_visible():
            continue
        name = f"axes {number}"
        # Matplotlib has no public accessor for the left and right titles.
        for title in (ax.title, ax._left_title, ax._right_title):
            if title.get_visible() and title.get_text():
                boxes.append((f"{name} title {title.get_text()!r}", title.get_window_extent(renderer)))
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible():
                continue
            box = axis.get_tightbbox(renderer)
            if box is not None and box.width > 0 and box.height > 0:
                label = axis.label.get_text()
                what = f"{name} {axis_name} axis (tick labels" + (f", label {label!r})" if label else ")")
                boxes.append((what, box))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            boxes.append((f"{name} legend", legend.get_window_extent(renderer)))
    texts = list(fig.texts)
    if fig._suptitle is not None:  # no public accessor
        texts.append(fig._suptitle)
    for text in texts:
        if text.get_visible() and text.get_text():
            boxes.append((f"figure text {text.get_text()!r}", text.get_window_extent(renderer)))
    for legend in fig.legends:
        if legend.get_visible():
            boxes.append(("figure legend", legend.get_window_extent(renderer)))
    return boxes


def clipped_texts(fig: Figure, tolerance: float = 1.0, *, drawn: bool = False) -> list[str]:
    """What text of ``fig`` is cut off by the figure's edge when it is rendered (empty: nothing).

    The figure is laid out as drawing it would (``drawn=True`` skips that when it has just
    been drawn or saved), then every title, axis (tick labels and label), legend and figure
    text is compared with the figure's own box, in pixels, allowing ``tolerance`` pixels for
    rounding. Each entry names the text and the edges it crosses.
    """
    if not drawn:
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    found = []
    for what, box in _text_boxes(fig, renderer):
        edges = [
            edge
            for edge, outside in (
                ("left", box.x0 < frame.x0 - tolerance),
                ("right", box.x1 > frame.x1 + tolerance),
                ("bottom", box.y0 < frame.y0 - tolerance),
                ("top", box.y1 > frame.y1 + tolerance),
            )
            if outside
        ]
        if edges:
            found.append(f"{what} crosses the {' and '.join(edges)} edge")
    return found
