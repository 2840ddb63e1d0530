"""One step of an LSTM cell, written out: sigmoid gates, tanh candidate and tanh output.

Why each nonlinearity sits where it does is explained in the chapters "The sigmoid"
(``book/sigmoid.md``, a gate is a fraction between 0 and 1) and "tanh and its scaled forms"
(``book/tanh.md``, a bounded, signed state); the guide of "Choosing an activation"
(``book/comparison.md``) sums it up. Used by the exercise on tanh in LSTM cells.

The weights use the layout of ``torch.nn.LSTMCell``: a dict with ``weight_ih`` of shape
``(4H, I)``, ``weight_hh`` ``(4H, H)``, ``bias_ih`` and ``bias_hh`` ``(4H,)``, the four blocks
of ``H`` rows being, in this order, the input gate ``i``, the forget gate ``f``, the
candidate ``g`` and the output gate ``o``. With ``x`` of shape ``(batch, I)`` and ``h``, ``c`` of
shape ``(batch, H)``::

    i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h' = sigmoid(o) * tanh(c')
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from actgrader.reference.formulas import sigmoid, tanh

#: The order of the four blocks of rows in ``nn.LSTMCell``'s weights.
GATE_ORDER: tuple[str, ...] = ("i", "f", "g", "o")
#: The names of ``nn.LSTMCell``'s parameters, as keys of ``weights``.
WEIGHT_NAMES: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def gate_preactivations(x: Tensor, h: Tensor, weights: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The four pre-activations ``{"i", "f", "g", "o"}``, each of shape ``(batch, H)``, before any nonlinearity."""
    z = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    return dict(zip(GATE_ORDER, z.chunk(4, dim=-1), strict=True))


def lstm_step(x: Tensor, h: Tensor, c: Tensor, weights: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """One step of ``nn.LSTMCell``: the new ``(h, c)`` from the input ``x`` and the state ``(h, c)``.

    The gates go through the sigmoid (each is a fraction in (0, 1) of what it lets through),
    the candidate through tanh (a signed update in (-1, 1): the cell can be increased or
    decreased), and the new cell state through tanh again before the output gate, so that
    ``h`` stays in (-1, 1) however large ``c`` grows.
    """
    z = gate_preactivations(x, h, weights)
    c_new = sigmoid(z["f"]) * c + sigmoid(z["i"]) * tanh(z["g"])
    h_new = sigmoid(z["o"]) * tanh(c_new)
    return h_new, c_new
