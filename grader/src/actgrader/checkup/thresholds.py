"""The check-up's thresholds, each with the reason for its value, and the codes of its findings.

Explained in the chapter "The model check-up" (``book/model-checkup.md``). They are rules of
thumb for spotting a problem on one batch, not laws: the book chapters that each finding links
to (:data:`SECTIONS`) show the effect they stand for. Every finding a rule can report has a
code in :data:`CODES`; grader/README.md documents each of them (a test checks).
"""

from __future__ import annotations

# Seed 004's rule of thumb: more than 30% of a ReLU layer's units off for every example of a
# batch is "usually a dead-neuron problem". A healthy Kaiming-initialized ReLU layer has a few
# per cent to about 10% such units on the course's data (measured in tests/checkup).
DEAD_FRACTION = 0.30
# A live unit is zero on each example with probability about 1/2, so on all of a batch of B
# examples with probability about 2**-B: from 16 examples on, "zero on the whole batch" is
# evidence, below that it is chance, and the dead-unit check is skipped.
MIN_BATCH_FOR_DEAD = 16
# At one learning rate, a layer whose weights get gradients 100 times smaller than another's
# moves 100 times slower. Healthy networks in the course stay within a factor of about 10
# across layers; a 20-layer sigmoid stack is at 1e-12.
GRADIENT_RATIO = 1e-2
# A saturating activation's unit counts as saturated where its slope is under a tenth of its
# largest (tanh beyond |z| = 1.82, the sigmoid beyond |z| = 3.64) ...
SATURATED_SLOPE = 0.1
# ... and a layer as saturated when more than half of its pre-activations are.
SATURATED_SHARE = 0.5
# The spread (standard deviation) of pre-activations should stay of the same order through
# the hidden layers; a tenfold change from the first to the last means the forward signal is
# vanishing or exploding, which matched initialization exists to prevent.
SPREAD_CHANGE = 10.0
# The schemes differ by factors of 2 or more (Kaiming is twice LeCun; nn.Linear's default a
# third of LeCun), so a factor of 1.5 on the weight variance tells them apart. The band is
# widened by three standard errors of a variance estimated from n weights, sqrt(2 / n), so a
# small layer is not flagged for sampling noise.
INIT_TOLERANCE = 1.5
# A mismatched scale multiplies the signal's variance at every layer; the finding is a warning
# when the product over the flagged layers exceeds 10 (either way), a note otherwise.
INIT_COMPOUND = 10.0
# A scheme is named in the table when the measured variance is within this factor of it.
SCHEME_MATCH = 1.25

#: Every finding the check-up can report: code -> what it stands for. grader/README.md documents
#: each of them (a test checks), and the chapter lists them.
CODES: dict[str, str] = {
    "output-loss-mismatch": "the last module does not suit the loss (double softmax, a sigmoid before "
    "BCEWithLogitsLoss, NLLLoss without LogSoftmax, softmax outputs on multi-label targets)",
    "output-loss-redundant": "LogSoftmax before CrossEntropyLoss: changes nothing, can go",
    "bce-on-sigmoid": "Sigmoid then BCELoss: correct, BCEWithLogitsLoss is the stable form",
    "bce-clamped": "sigmoid outputs exactly 0 or 1 under BCELoss: loss read as 100, gradient 0",
    "sigmoid-mse": "Sigmoid with a squared or absolute error on 0/1 targets: gradient carries p(1 - p)",
    "output-range": "regression targets outside the output activation's range (a ReLU output, negative targets)",
    "loss-failed": "the loss could not be computed on the model's output",
    "forward-failed": "the model could not run on the batch",
    "dead-relu": f"more than {100 * DEAD_FRACTION:.0f}% of a ReLU layer's units are zero on every example",
    "vanishing-gradients": f"a layer's gradient per weight is under {GRADIENT_RATIO:g} of another's, on the input side",
    "exploding-gradients": "the same ratio, with the large gradients on the input side",
    "no-gradient": "every parameter's gradient is exactly zero",
    "non-finite": "the loss or a gradient is inf or nan",
    "saturated": f"more than {100 * SATURATED_SHARE:.0f}% of a tanh/sigmoid layer's pre-activations are saturated",
    "signal-scale": f"the spread of pre-activations changes more than {SPREAD_CHANGE:g}-fold through the hidden layers",
    "init-mismatch": "the weight scale does not suit the activation that follows (e.g. Kaiming before tanh)",
}

SECTIONS = {
    "double-softmax": "output-and-loss#sec-double-softmax",
    "bce": "output-and-loss#sec-bce-stability",
    "table": "output-and-loss#sec-output-loss-table",
    "multilabel": "output-and-loss#sec-multilabel",
    "saturated-output": "output-and-loss#sec-saturated-sigmoid",
    "relu-output": "output-and-loss#sec-relu-output",
    "dead": "dead-relus#sec-dead-definition",
    "gradients": "vanishing-gradients#sec-deep-profile",
    "exploding": "exploding-gradients#sec-explode-source",
    "saturation": "vanishing-gradients#sec-slopes",
    "spread": "initialization#sec-variance-propagation",
    "init": "initialization#sec-mismatch",
    "codes": "model-checkup#sec-checkup-codes",
    "limits": "model-checkup#sec-checkup-limits",
}
