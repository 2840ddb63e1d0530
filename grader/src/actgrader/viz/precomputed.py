"""Interactive figures that keep working on the static site, where there is no kernel.

The problem
-----------
``ipywidgets.interact`` calls a Python function each time a control moves. The book is a
static site: there is no Python behind it, so an ``interact`` figure shows its first output
and then never changes.

The approach
------------
:class:`PrecomputedFigure` calls your ``render`` function once per combination of control
values at build time, keeps each figure as a small PNG in an image widget (with alternative
text: :class:`~actgrader.viz.image.AltImage`), and puts the images in ``ipywidgets.Stack``
widgets (one level of nesting per control). Each control's ``index`` is linked to the
stacks' ``selected_index`` with :func:`ipywidgets.jslink`, a link that lives in the browser.
Moving a control therefore changes the visible image with no kernel; in Jupyter the very
same widget works the same way. There is one code path and one ``render`` function, so the
live notebook and the static page cannot disagree.

Use it in a chapter
-------------------
::

    from actgrader.viz import Control, PrecomputedFigure, new_figure

    def render(activation: str, depth: int):
        fig, ax = new_figure()
        ...  # draw with the given values
        return fig  # a matplotlib Figure (closed for you) or PNG bytes

    PrecomputedFigure(
        render,
        [
            Control("activation", {"ReLU": "relu", "tanh": "tanh"}),  # label -> value
            Control("depth", [2, 3, 4], label="layers", kind="slider"),  # values
        ],
        caption="What a small network fits, by activation and depth.",
        alt="A curve fitted to sine data",  # optional; the caption by default
    )

Make the cell's last expression the widget (tag the cell ``hide-input``). ``render`` is
called with keyword arguments named after the controls.

Accessibility
-------------
A figure needs words for readers who cannot see it. The ``caption`` (required, plain text)
is shown under the figure, and every frame carries an alternative text naming the control
values it was drawn for, e.g. "A curve fitted to sine data (activation: ReLU, layers K: 3)".
Frames are :class:`~actgrader.viz.image.AltImage` widgets (an ``<img>`` with ``alt``):
``ipywidgets.Image`` cannot carry alternative text (see that module). Every control is
labelled with its ``label`` (or name); the slider's handle is tied to that label by
the site's widget manager on the static site (tools/vendor/src/widgets.js).

Budget
------
Every frame is embedded in the page (base64 in the widget state), so the number of frames
is the product of the option counts and each costs several kB. Keep it to a few
dozen frames: ``max_frames`` and ``max_bytes`` stop the build with a clear message
when a widget would make its page heavy (the browser test holds each page's own files to
2 MB). Small figures (``new_figure`` defaults) and ``dpi=80`` with a palette
(``colors``) give about 5 to 10 kB per line-plot frame (base64 in the page adds a third).
Precompute expensive work (training, sweeps) once before the widget, and let ``render``
only draw: it runs once per frame, at build time.

Testing
-------
``tests/site/test_site_browser.py`` opens every page of the book in Chromium, with no
network, and moves every control of every ``precomputed-figure`` it finds, checking that
the displayed image and its alternative text change. Every chapter (every page of
``_toc.yml`` but the landing page) must hold at least one control that changes a figure,
so a chapter whose widget disappears fails the test.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ipywidgets as widgets
import matplotlib.pyplot as plt
from ipywidgets.widgets.widget_link import Link
from matplotlib.figure import Figure

from actgrader.viz.image import AltImage
from actgrader.viz.style import png_bytes

Render = Callable[..., Figure | bytes]
ControlKind = Literal["toggle", "dropdown", "slider"]

_WIDGETS: Mapping[str, type[widgets.widget_selection._Selection]] = {
    "toggle": widgets.ToggleButtons,
    "dropdown": widgets.Dropdown,
    "slider": widgets.SelectionSlider,
}


@dataclass(frozen=True)
class Control:
    """One control of a :class:`PrecomputedFigure`: a keyword of ``render`` and its choices.

    ``options`` is either a sequence of values (each shown as ``str(value)``) or a mapping
    ``{label: value}``. ``default`` is the value shown first (the first option if omitted).
    ``kind`` picks the widget: ``"toggle"`` (buttons, best for up to ~5 choices),
    ``"dropdown"`` or ``"slider"`` (ordered values such as a depth or a scale). The label
    (``name`` if omitted) is shown beside the control and names it for screen readers.
    """

    name: str
    options: Sequence[Any] | Mapping[str, Any]
    label: str | None = None
    kind: ControlKind = "toggle"
    default: Any = None
    _pairs: tuple[tuple[str, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.options, Mapping):
            pairs = tuple((str(label), value) for label, value in self.options.items())
        elif isinstance(self.options, str | bytes):
            raise TypeError(f"control {self.name!r}: options must be a sequence or a mapping, not a string")
        else:
            pairs = tuple((str(value), value) for value in self.options)
        if not pairs:
            raise ValueError(f"control {self.name!r} has no options")
        if len({label for label, _ in pairs}) != len(pairs):
            raise ValueError(f"control {self.name!r} has two options with the same label")
        if self.kind not in _WIDGETS:
            raise ValueError(f"control {self.name!r}: kind must be one of {sorted(_WIDGETS)}")
        object.__setattr__(self, "_pairs", pairs)
        self.default_index  # noqa: B018 (validates the default)

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self._pairs]

    @property
    def values(self) -> list[Any]:
        return [value for _, value in self._pairs]

    @property
    def description(self) -> str:
        """What the control is called on the page (its ``label``, else its ``name``)."""
        return self.label if self.label is not None else self.name

    @property
    def default_index(self) -> int:
        return 0 if self.default is None else self.index_of(self.default)

    def index_of(self, value: Any) -> int:
        """The position of ``value`` among the options."""
        for i, option in enumerate(self.values):
            if option == value:
                return i
        raise ValueError(f"{value!r} is not an option of control {self.name!r} ({self.values})")

    def make_widget(self) -> widgets.widget_selection._Selection:
        """A fresh selection widget for this control, its ``index`` at the default."""
        cls = _WIDGETS[self.kind]
        style: dict[str, str] = {"description_width": "initial"}
        if self.kind == "toggle":
            style["button_width"] = "auto"
        return cls(
            options=list(self._pairs),
            index=self.default_index,
            description=self.description,
            style=style,
        )


class PrecomputedFigure(widgets.VBox):
    """A figure that follows its controls on a static page: one precomputed image per combination.

    ``render(**values)`` draws one frame and returns a matplotlib ``Figure`` (saved with
    :func:`~actgrader.viz.style.png_bytes` at ``dpi``/``colors`` and then closed) or PNG bytes.
    It is called once for every combination of the ``controls``' options, in order, at
    construction time.

    ``caption`` (plain text, required) is shown under the figure. ``alt`` says in a few words
    what the figure shows (the caption if omitted); each frame's alternative text is ``alt``
    followed by the control values it shows (:meth:`alt_text`).

    Attributes: ``controls`` (name -> selection widget), ``frames`` (index tuple -> PNG
    bytes), ``stack`` (the outer :class:`ipywidgets.Stack`). The box carries the CSS class
    ``precomputed-figure`` so that a page or a test can find it.
    """

    def __init__(
        self,
        render: Render,
        controls: Sequence[Control],
        *,
        caption: str,
        alt: str | None = None,
        dpi: float = 80,
        colors: int | None = 96,
        max_frames: int = 48,
        max_bytes: int = 700_000,
    ) -> None:
        if not controls:
            raise ValueError("a PrecomputedFigure needs at least one Control")
        if not isinstance(caption, str) or not caption.strip():
            raise ValueError("a PrecomputedFigure needs a caption: readers of the page (and screen readers) see it")
        if alt is not None and not alt.strip():
            raise ValueError("alt must say what the figure shows; leave it out to use the caption")
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"two controls share a name: {names}")
        shape = tuple(len(c.values) for c in controls)
        count = 1
        for n in shape:
            count *= n
        if count > max_frames:
            raise ValueError(
                f"{count} frames ({' x '.join(map(str, shape))}) exceed max_frames={max_frames}: every frame "
                "is embedded in the page; offer fewer options or raise max_frames knowingly"
            )

        self.render = render
        self.caption = caption.strip()
        self.alt = (alt if alt is not None else self.caption).strip()
        self.control_specs: tuple[Control, ...] = tuple(controls)
        self.frames: dict[tuple[int, ...], bytes] = {}
        for index in itertools.product(*(range(n) for n in shape)):
            values = {c.name: c.values[i] for c, i in zip(controls, index, strict=True)}
            self.frames[index] = _to_png(render(**values), dpi=dpi, colors=colors)
        total = sum(len(png) for png in self.frames.values())
        if total > max_bytes:
            raise ValueError(
                f"the {count} frames weigh {total / 1e3:.0f} kB, over max_bytes={max_bytes / 1e3:.0f} kB: "
                "use a smaller figure, a lower dpi, fewer colours or fewer options"
            )

        self.controls: dict[str, widgets.widget_selection._Selection] = {c.name: c.make_widget() for c in controls}
        stacks_by_level: list[list[widgets.Stack]] = [[] for _ in controls]
        self.stack = self._build(0, (), stacks_by_level)
        self._links = [
            widgets.jslink((self.controls[spec.name], "index"), (stack, "selected_index"))
            for spec, stacks in zip(controls, stacks_by_level, strict=True)
            for stack in stacks
        ]
        self.caption_widget = widgets.HTML(f"<p class='precomputed-figure-caption'>{html.escape(self.caption)}</p>")
        super().__init__([*self.controls.values(), self.stack, self.caption_widget])
        self.add_class("precomputed-figure")

    def _build(self, level: int, prefix: tuple[int, ...], stacks_by_level: list[list[widgets.Stack]]) -> widgets.Widget:
        if level == len(self.control_specs):
            return AltImage(self.frames[prefix], self.alt_text(prefix), layout=widgets.Layout(max_width="100%"))
        spec = self.control_specs[level]
        children = [self._build(level + 1, (*prefix, i), stacks_by_level) for i in range(len(spec.values))]
        stack = widgets.Stack(children, selected_index=spec.default_index)
        stacks_by_level[level].append(stack)
        return stack

    def alt_text(self, index: tuple[int, ...]) -> str:
        """The alternative text of the frame at ``index``: ``alt`` and the values it shows."""
        values = ", ".join(
            f"{spec.description}: {spec.labels[i]}" for spec, i in zip(self.control_specs, index, strict=True)
        )
        return f"{self.alt.rstrip('.')} ({values})"

    @property
    def links(self) -> list[Link]:
        """The browser-side links from each control's ``index`` to the stacks it drives."""
        return list(self._links)

    def index_of(self, **values: Any) -> tuple[int, ...]:
        """The frame index for one value per control (a missing control takes its default)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(f"no control named {sorted(unknown)}")
        return tuple(
            spec.index_of(values[spec.name]) if spec.name in values else spec.default_index
            for spec in self.control_specs
        )

    def frame(self, **values: Any) -> bytes:
        """The PNG shown for these control values."""
        return self.frames[self.index_of(**values)]

    def image(self, **values: Any) -> AltImage:
        """The image widget shown for these control values."""
        node: widgets.Widget = self.stack
        for i in self.index_of(**values):
            node = node.children[i]
        return node

    def visible_image(self) -> AltImage:
        """The image the stacks currently select (as far as the Python side knows)."""
        node: widgets.Widget = self.stack
        while isinstance(node, widgets.Stack):
            node = node.children[node.selected_index]
        return node


def _to_png(result: Figure | bytes, *, dpi: float, colors: int | None) -> bytes:
    if isinstance(result, bytes | bytearray):
        data = bytes(result)
        if not data.startswith(b"\x89PNG"):
            raise TypeError("render returned bytes that are not a PNG")
        return data
    if isinstance(result, Figure):
        try:
            return png_bytes(result, dpi=dpi, colors=colors)
        finally:
            plt.close(result)
    raise TypeError(f"render must return a matplotlib Figure or PNG bytes, not {type(result).__name__}")
