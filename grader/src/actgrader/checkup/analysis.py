"""One check-up in progress: the recorded pass, the table rows built from it, and the findings so far.

Explained in the chapter "The model check-up" (``book/model-checkup.md``).
:mod:`actgrader.checkup.rows` fills the rows; the rule families of :mod:`actgrader.checkup.rules`
read them and add findings through :meth:`Analysis.add`, which accepts only the codes of
:data:`~actgrader.checkup.thresholds.CODES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from actgrader.checkup import kinds
from actgrader.checkup.record import Call, Recording
from actgrader.checkup.report import Finding, LayerRow, Report
from actgrader.checkup.thresholds import CODES, SECTIONS


class Analysis:
    """The rows and findings of one report, built from one :class:`~actgrader.checkup.record.Recording`."""

    def __init__(self, rec: Recording, x: Any, y: Any, loss_fn: Callable[..., Any]) -> None:
        self.rec = rec
        self.y = y
        self.loss_fn = loss_fn
        self.batch = int(x.shape[0]) if isinstance(x, Tensor) and x.ndim > 0 else None
        self.rows: list[LayerRow] = []
        self.findings: list[Finding] = []
        self.not_analysed: list[str] = []
        self.init_ratios: dict[str, float] = {}
        self.hidden_rows: list[LayerRow] = []
        self.output_row: LayerRow | None = None
        self.output_call: Call | None = None
        self.final_module: nn.Module | None = None
        self.init_detail: dict[str, tuple[nn.Module | None, kinds.SuitedInit, float, int]] = {}

    def add(self, severity: str, code: str, layers: list[str], message: str, meaning: str, section: str) -> None:
        """Record a finding: ``code`` must be one of :data:`CODES`, ``section`` a key of :data:`SECTIONS`."""
        if code not in CODES:
            raise ValueError(f"finding code {code!r} is not in CODES: document it first")
        self.findings.append(Finding(severity, code, tuple(layers), message, meaning, SECTIONS[section]))  # type: ignore[arg-type]

    def report(self, loss_fn: Callable[..., Any], mode: str) -> Report:
        """The finished report: the rows, the findings and what could not be analysed."""
        name = kinds.loss_name(loss_fn) or getattr(loss_fn, "__name__", type(loss_fn).__name__)
        return Report(self.rows, self.findings, self.rec.loss, name, self.batch, mode, self.not_analysed)
