"""Unit tests of actgrader.viz's PrecomputedFigure (no book build needed).

What a static page does with the widget is tested in a real browser by test_browser.py; here
we check the structure that makes it work: one frame per combination from the same render
function, nested stacks, and browser-side links from each control to the stacks it drives.
"""

from __future__ import annotations

import base64
import io
import itertools

import ipywidgets as widgets
import matplotlib
import pytest
from ipywidgets.embed import embed_data
from ipywidgets.widgets.widget_link import Link
from PIL import Image

from actgrader.viz import AltImage, Control, PrecomputedFigure, clipped_texts, new_figure, png_bytes

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = ["red", "green", "blue"]
SIZES = [1, 2, 3, 4]


def draw(color: str, size: int):
    fig, ax = new_figure(width=2.0, height=1.5)
    ax.plot([0, 1], [0, size], color=color)
    ax.set_title(f"{color} {size}")
    return fig


@pytest.fixture
def calls():
    return []


@pytest.fixture
def figure(calls):
    def render(color, size):
        calls.append((color, size))
        return draw(color, size)

    return PrecomputedFigure(
        render,
        [Control("color", COLORS, default="green"), Control("size", SIZES, kind="slider", label="size")],
        caption="test figure",
    )


def test_render_is_called_once_per_combination(figure, calls):
    assert sorted(calls) == sorted(itertools.product(COLORS, SIZES))
    assert len(figure.frames) == len(COLORS) * len(SIZES)


def test_every_frame_is_the_render_function_output(figure):
    for color, size in itertools.product(COLORS, SIZES):
        fig = draw(color, size)
        expected = png_bytes(fig)
        plt.close(fig)
        assert figure.frame(color=color, size=size) == expected
        assert figure.image(color=color, size=size).png == expected


def test_frames_differ_and_are_small_pngs(figure):
    frames = list(figure.frames.values())
    assert len(set(frames)) == len(frames)
    for png in frames:
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.mode == "P"  # palette: the size-saving default


def test_stacks_nest_one_level_per_control(figure):
    outer = figure.stack
    assert isinstance(outer, widgets.Stack)
    assert len(outer.children) == len(COLORS)
    for inner in outer.children:
        assert isinstance(inner, widgets.Stack)
        assert len(inner.children) == len(SIZES)
        assert all(isinstance(image, AltImage) for image in inner.children)


def test_each_control_is_jslinked_to_every_stack_of_its_level(figure):
    links = figure.links
    assert all(isinstance(link, Link) for link in links)
    by_control: dict[str, list[widgets.Stack]] = {}
    for link in links:
        (source, source_trait), (target, target_trait) = link.source, link.target
        assert (source_trait, target_trait) == ("index", "selected_index")
        name = next(n for n, w in figure.controls.items() if w is source)
        by_control.setdefault(name, []).append(target)
    assert by_control["color"] == [figure.stack]
    assert by_control["size"] == list(figure.stack.children)


def test_defaults_select_the_default_frame(figure):
    assert figure.controls["color"].index == COLORS.index("green")
    assert figure.controls["size"].index == 0
    assert figure.visible_image() is figure.image(color="green", size=SIZES[0])
    assert figure.visible_image().png == figure.frame()


def test_controls_use_the_requested_widgets(figure):
    assert isinstance(figure.controls["color"], widgets.ToggleButtons)
    assert isinstance(figure.controls["size"], widgets.SelectionSlider)
    assert figure.controls["color"].options == tuple((c, c) for c in COLORS)


def test_box_holds_controls_stack_and_caption(figure):
    assert "precomputed-figure" in figure._dom_classes
    controls, stack, caption = figure.children[:2], figure.children[2], figure.children[3]
    assert list(controls) == list(figure.controls.values())
    assert stack is figure.stack
    assert "test figure" in caption.value


def test_embedded_state_carries_links_and_images(figure):
    """What a static page receives (the kernel's whole widget state): every link and image."""
    state = embed_data(views=[figure])["manager_state"]["state"]
    control_ids = {f"IPY_MODEL_{w.model_id}" for w in figure.controls.values()}
    links = [m["state"] for m in state.values() if m["model_name"] == "LinkModel"]
    ours = [link for link in links if link["source"][0] in control_ids]
    assert len(ours) == len(figure.links)
    assert {link["target"][1] for link in ours} == {"selected_index"}
    images = [figure.image(color=c, size=n) for c, n in itertools.product(COLORS, SIZES)]
    for image in images:
        assert state[image.model_id]["model_name"] == "HTMLModel"
        assert state[image.model_id]["state"]["value"] == image.value  # the <img> with its alt text


def test_mapping_options_pass_values_and_show_labels():
    seen = []

    def render(act):
        seen.append(act)
        return draw("black", 1 + len(seen))

    fig = PrecomputedFigure(render, [Control("act", {"ReLU": "relu", "tanh": "tanh"})], caption="c")
    assert seen == ["relu", "tanh"]
    assert fig.controls["act"].options == (("ReLU", "relu"), ("tanh", "tanh"))
    assert fig.controls["act"].label == "ReLU"
    assert fig.controls["act"].value == "relu"


def test_figures_are_closed_after_rendering():
    before = set(plt.get_fignums())
    PrecomputedFigure(lambda size: draw("red", size), [Control("size", SIZES)], caption="c")
    assert set(plt.get_fignums()) == before


def test_render_may_return_png_bytes():
    fig = draw("red", 1)
    png = png_bytes(fig)
    plt.close(fig)
    assert PrecomputedFigure(lambda k: png, [Control("k", [1, 2])], caption="c").frame(k=2) == png


@pytest.mark.parametrize("result", [b"not a png", "a string", None])
def test_render_must_return_a_figure_or_png(result):
    with pytest.raises(TypeError):
        PrecomputedFigure(lambda k: result, [Control("k", [1])], caption="c")


def test_too_many_frames_are_refused_before_rendering():
    def render(a, b):
        raise AssertionError("must not render")

    with pytest.raises(ValueError, match="max_frames"):
        PrecomputedFigure(render, [Control("a", range(8)), Control("b", range(8))], caption="c", max_frames=48)


def test_too_heavy_frames_are_refused():
    with pytest.raises(ValueError, match="max_bytes"):
        PrecomputedFigure(lambda size: draw("red", size), [Control("size", SIZES)], caption="c", max_bytes=1_000)


@pytest.mark.parametrize(
    ("options", "default", "message"),
    [([], None, "no options"), (["a", "a"], None, "same label"), (["a", "b"], "c", "not an option")],
)
def test_bad_controls_are_refused(options, default, message):
    with pytest.raises(ValueError, match=message):
        Control("x", options, default=default)


def test_duplicate_control_names_are_refused():
    with pytest.raises(ValueError, match="share a name"):
        PrecomputedFigure(lambda x: b"", [Control("x", [1]), Control("x", [2])], caption="c")


def test_unknown_control_values_are_refused(figure):
    with pytest.raises(TypeError):
        figure.frame(colour="red")
    with pytest.raises(ValueError):
        figure.frame(color="purple")


def test_every_frame_names_the_values_it_shows(figure):
    """Each frame's alternative text is the caption followed by the values it was drawn for."""
    alts = []
    for color, size in itertools.product(COLORS, SIZES):
        image = figure.image(color=color, size=size)
        assert image.alt == f"test figure (color: {color}, size: {size})"
        assert f'alt="{image.alt}"' in image.value
        alts.append(image.alt)
    assert len(set(alts)) == len(alts)


def test_alt_overrides_the_caption_and_labels_name_the_controls():
    fig = PrecomputedFigure(
        lambda act, k: draw("red", k),
        [Control("act", {"Leaky ReLU": "leaky"}), Control("k", [1, 2], label="layers K", kind="slider")],
        caption="A long caption.",
        alt="Fitted curves.",
    )
    assert fig.image(act="leaky", k=2).alt == "Fitted curves (act: Leaky ReLU, layers K: 2)"
    assert fig.controls["k"].description == "layers K"
    assert fig.controls["act"].description == "act"


def test_caption_is_required_and_shown_as_text():
    with pytest.raises(TypeError):
        PrecomputedFigure(lambda k: draw("red", k), [Control("k", [1])])  # type: ignore[call-arg]
    for caption in ("", "   "):
        with pytest.raises(ValueError, match="caption"):
            PrecomputedFigure(lambda k: draw("red", k), [Control("k", [1])], caption=caption)
    fig = PrecomputedFigure(lambda k: draw("red", k), [Control("k", [1])], caption="x < 1 & y")
    assert fig.caption_widget.value == "<p class='precomputed-figure-caption'>x &lt; 1 &amp; y</p>"
    assert fig.caption_widget is fig.children[-1]


def test_alt_image_shows_the_png_with_its_alt_text_escaped():
    fig = draw("red", 1)
    png = png_bytes(fig)
    plt.close(fig)
    image = AltImage(png, 'x < 1 & "y"', width="100%")
    html = image.value
    assert html.startswith('<img src="data:image/png;base64,')
    assert base64.b64decode(html.split("base64,")[1].split('"')[0]) == png
    assert 'alt="x &lt; 1 &amp; &quot;y&quot;"' in html
    assert "width:100%" in html
    assert image.png == png and image.alt == 'x < 1 & "y"'
    with pytest.raises(ValueError):
        AltImage(png, " ")
    with pytest.raises(TypeError):
        AltImage(b"GIF89a", "a gif")


def _frozen_too_early():
    """The pattern that clipped the vanishing-gradients frames: layout fixed on empty axes."""
    fig, ax = new_figure(width=5.6, height=2.7)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    ax.semilogy([1, 2, 3], [1e-3, 1e-10, 1e-20])
    ax.set(xlabel="layer (1 = input side)", ylabel="gradient norm", ylim=(1e-22, 1e2))
    ax.set_title("20 layers, sigmoid, init xavier")
    return fig


def test_clipped_texts_names_each_cut_piece():
    fig = _frozen_too_early()
    found = clipped_texts(fig)
    plt.close(fig)
    assert any("title '20 layers, sigmoid, init xavier'" in f and "top" in f for f in found), found
    assert any("y axis" in f and "'gradient norm'" in f and "left" in f for f in found), found
    assert any("x axis" in f and "bottom" in f for f in found), found


def test_clipped_texts_accepts_a_laid_out_figure():
    fig, ax = new_figure(width=5.6, height=2.7)
    ax.semilogy([1, 2, 3], [1e-3, 1e-10, 1e-20])
    ax.set(xlabel="layer (1 = input side)", ylabel="gradient norm", ylim=(1e-22, 1e2))
    ax.set_title("20 layers, sigmoid, init xavier")
    ax.legend(["sigmoid"], loc="lower right")
    assert clipped_texts(fig) == []
    plt.close(fig)


def test_a_clipped_frame_stops_the_widget():
    with pytest.raises(ValueError, match="runs off the edge"):
        PrecomputedFigure(lambda depth: _frozen_too_early(), [Control("depth", [5, 10])], caption="c")
