"""What activations cost to compute, measured, with the noise of the measurement.

Taught in the chapters "Choosing an activation" (``book/comparison.md``: the cost table) and
"ReLU, Leaky ReLU and ELU" (``book/relu-family.md``: does a ReLU's zeros make the next
layer cheaper?).

Timing on a shared machine is noisy: other processes, frequency scaling and the memory
system all move a single measurement by tens of percent. So nothing here reports one
number. :func:`time_rounds` runs every candidate once per *round*, in a fresh shuffled
order each round, and divides each candidate's time by the baseline's time *of the same
round*; a slow spell of the machine then slows the whole round and mostly cancels out of the
ratios. Each :class:`Timing` keeps every round, and summarises them by the median and the
interquartile range. A second copy of the baseline is timed as an ordinary candidate (an
"A/A test"): its ratios would all be 1 on a perfectly quiet machine, so their spread is the
noise floor, and :meth:`Timing.within_noise` says whether a candidate's interval overlaps it.

Timings are figures to print, never targets to assert: a test cannot know how loaded the
machine that runs it will be.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

Fn = Callable[[Tensor], Tensor]
Work = Callable[[], object]


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Lower quartile, median, upper quartile (the "inclusive" method: for 3 values, min, median, max)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


@dataclass(frozen=True)
class Timing:
    """Every round's time of one candidate (seconds) and its ratio to the baseline of the same round."""

    name: str
    seconds: tuple[float, ...]
    ratios: tuple[float, ...]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def ratio(self) -> float:
        """The median of the per-round ratios to the baseline."""
        return _quartiles(self.ratios)[1]

    @property
    def ratio_low(self) -> float:
        """The lower quartile of the per-round ratios."""
        return _quartiles(self.ratios)[0]

    @property
    def ratio_high(self) -> float:
        """The upper quartile of the per-round ratios."""
        return _quartiles(self.ratios)[2]

    def within_noise(self, noise: Timing) -> bool:
        """Whether this candidate's interquartile range of ratios overlaps ``noise``'s (the A/A copy's)."""
        return self.ratio_low <= noise.ratio_high and noise.ratio_low <= self.ratio_high


@contextlib.contextmanager
def threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads (``None``: leave the setting alone), restored afterwards."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_rounds(
    candidates: Mapping[str, Work],
    *,
    baseline: str,
    rounds: int = 15,
    warmup: int = 2,
    seed: int = 0,
    repeat_baseline: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Timing]:
    """Time each zero-argument callable once per round, in a shuffled order, for ``rounds`` rounds.

    ``warmup`` rounds run first and are discarded (first calls allocate memory and warm
    caches). If ``repeat_baseline`` is given, the baseline is also timed under that name, as
    an independent candidate: the A/A copy whose spread is the noise floor. The result maps
    each name (the A/A copy included) to its :class:`Timing`; ratios are to the baseline of
    the same round, so the baseline's own ratios are all exactly 1.
    """
    if baseline not in candidates:
        raise ValueError(f"the baseline {baseline!r} is not among the candidates")
    if rounds < 1:
        raise ValueError("at least one round is needed")
    work = dict(candidates)
    if repeat_baseline is not None:
        if repeat_baseline in work:
            raise ValueError(f"{repeat_baseline!r} is already a candidate")
        work[repeat_baseline] = candidates[baseline]
    order = list(work)
    shuffler = random.Random(seed)
    seconds: dict[str, list[float]] = {name: [] for name in work}
    for r in range(warmup + rounds):
        shuffler.shuffle(order)
        for name in order:
            start = clock()
            work[name]()
            elapsed = clock() - start
            if r >= warmup:
                seconds[name].append(elapsed)
    base = seconds[baseline]
    return {
        name: Timing(name, tuple(times), tuple(t / b for t, b in zip(times, base, strict=True)))
        for name, times in seconds.items()
    }


def forward_backward(fn: Fn, x: Tensor, grad: Tensor | None = None) -> Work:
    """A callable that runs ``fn(x)`` and its backward pass (into ``x.grad``) once.

    ``x`` must require gradients; ``grad`` is the incoming gradient (ones by default).
    """
    if not x.requires_grad:
        raise ValueError("x must require gradients for a backward pass")
    upstream = torch.ones_like(x) if grad is None else grad

    def step() -> None:
        x.grad = None
        fn(x).backward(upstream)

    return step


def activation_costs(
    fns: Mapping[str, Fn],
    *,
    baseline: str = "ReLU",
    numel: int = 1 << 22,
    rounds: int = 15,
    warmup: int = 2,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    thread_count: int | None = 1,
) -> dict[str, Timing]:
    """Forward + backward time of each activation on one large tensor, as ratios to ``baseline``.

    The input has ``numel`` standard normal entries (4 Mi by default, 16 MB in float32),
    shaped ``(numel // 1024, 1024)`` so that a softmax along the last dimension sees rows of
    1024 logits. The A/A copy of the baseline is named ``"<baseline> (again)"``. The work
    runs on ``thread_count`` threads (one by default: a single thread is the least disturbed
    by other processes on a shared machine; ``None`` keeps PyTorch's setting).
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(numel // 1024, 1024, generator=generator, dtype=dtype).requires_grad_()
    grad = torch.randn(x.shape, generator=generator, dtype=dtype)
    candidates = {name: forward_backward(fn, x, grad) for name, fn in fns.items()}
    with threads(thread_count):
        return time_rounds(
            candidates,
            baseline=baseline,
            rounds=rounds,
            warmup=warmup,
            seed=seed,
            repeat_baseline=f"{baseline} (again)",
        )


def layer_costs(
    modules: Mapping[str, Callable[[], nn.Module]],
    *,
    baseline: str,
    batch: int = 1024,
    width: int = 1024,
    rounds: int = 9,
    warmup: int = 2,
    seed: int = 0,
    thread_count: int | None = 1,
) -> dict[str, Timing]:
    """Forward + backward time of ``Linear(width, width)`` followed by each activation module.

    ``modules`` maps a name to a factory (``nn.ReLU``, ``lambda: nn.GELU()``, ...); use
    ``nn.Identity`` for the bare linear layer. Every candidate uses the same layer weights and
    the same input batch, so the differences are the activations' share of a real layer.
    """
    torch.manual_seed(seed)
    linear = nn.Linear(width, width)
    x = torch.randn(batch, width, generator=torch.Generator().manual_seed(seed))
    grad = torch.randn(batch, width, generator=torch.Generator().manual_seed(seed + 1))

    def candidate(factory: Callable[[], nn.Module]) -> Work:
        model = nn.Sequential(linear, factory())

        def step() -> None:
            linear.zero_grad(set_to_none=True)
            model(x).backward(grad)

        return step

    with threads(thread_count):
        return time_rounds(
            {name: candidate(factory) for name, factory in modules.items()},
            baseline=baseline,
            rounds=rounds,
            warmup=warmup,
            seed=seed,
            repeat_baseline=f"{baseline} (again)",
        )


def with_zeros(x: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """A copy of ``x`` with a random ``fraction`` of its entries set to exactly 0."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be in [0, 1]")
    keep = torch.rand(x.shape, generator=generator) >= fraction
    return x * keep.to(x.dtype)


def matmul_costs(
    zero_fractions: Sequence[float],
    *,
    size: int = 1024,
    sparse_fractions: Sequence[float] = (),
    rounds: int = 9,
    warmup: int = 2,
    seed: int = 0,
    thread_count: int | None = 1,
) -> dict[str, Timing]:
    """Time ``h @ W`` (both ``size x size``, float32) when ``h`` has a given fraction of zeros.

    Candidate names are ``"dense, 50% zeros"`` and so on; the baseline is the first fraction
    of ``zero_fractions`` (its A/A copy is named ``"<baseline> (again)"``). For each fraction
    in ``sparse_fractions`` the same product is also timed with ``h`` stored as a sparse CSR
    matrix and multiplied by ``torch.sparse.mm``, the kind of kernel that *can* skip zeros:
    those candidates are named ``"sparse kernel, 99% zeros"``.
    """
    if not zero_fractions:
        raise ValueError("at least one fraction of zeros is needed")
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(size, size, generator=generator)
    h = torch.randn(size, size, generator=generator)

    def dense_name(f: float) -> str:
        return f"dense, {f:.0%} zeros"

    candidates: dict[str, Work] = {}
    for f in zero_fractions:
        h_f = with_zeros(h, f, generator)
        candidates[dense_name(f)] = lambda h_f=h_f: h_f @ w
    for f in sparse_fractions:
        with warnings.catch_warnings():  # "sparse CSR support is in beta": true, and not our point
            warnings.simplefilter("ignore", UserWarning)
            h_csr = with_zeros(h, f, generator).to_sparse_csr()
        candidates[f"sparse kernel, {f:.0%} zeros"] = lambda h_csr=h_csr: torch.sparse.mm(h_csr, w)
    baseline = dense_name(zero_fractions[0])
    with threads(thread_count):
        return time_rounds(
            candidates,
            baseline=baseline,
            rounds=rounds,
            warmup=warmup,
            seed=seed,
            repeat_baseline=f"{baseline} (again)",
        )
