"""The check-up's result: per-layer rows, findings, and how they print (text and HTML)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Literal

from actgrader.links import section_url

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing the check-up noticed.

    ``code`` is stable (tests and notebooks match on it); ``message`` says what was measured,
    ``meaning`` what it implies and what to try; ``section`` is the ``"page#label"`` of the
    book section that explains it (see :func:`actgrader.links.section_url`).
    """

    severity: Severity
    code: str
    layers: tuple[str, ...]
    message: str
    meaning: str
    section: str

    @property
    def url(self) -> str:
        return section_url(self.section)


@dataclass(frozen=True)
class LayerRow:
    """One line of the table: a layer call and the activation it feeds, or a lone module call.

    ``preact_mean``/``preact_std`` describe what enters the activation (the layer's output when
    no activation follows). ``dead`` is the fraction of units that are zero on every example
    of the batch (ReLU and ReLU6 only); ``saturated`` the fraction of pre-activations where a
    saturating activation's slope is under a tenth of its largest. ``grad_rms`` is
    ``||d loss / d W|| / sqrt(#W)``, the typical gradient of one weight. ``init_scale`` is the
    weight variance times the fan-in (Kaiming 2, LeCun 1, ``nn.Linear``'s default 1/3) and
    ``init_ok`` whether it suits the activation. ``None`` means "not measured here".
    """

    index: int
    name: str
    kind: str
    activation: str | None
    shape: tuple[int, ...] | None
    preact_mean: float | None = None
    preact_std: float | None = None
    dead: float | None = None
    saturated: float | None = None
    grad_rms: float | None = None
    init_scale: float | None = None
    init_scheme: str | None = None
    init_ok: bool | None = None
    note: str = ""


@dataclass
class Report:
    """What :func:`actgrader.checkup.inspect_model` found. ``str(report)`` is a text table;
    in a notebook the report shows as an HTML table."""

    rows: list[LayerRow]
    findings: list[Finding]
    loss: float | None
    loss_name: str
    batch_size: int | None
    mode: str
    not_analysed: list[str] = field(default_factory=list)

    @property
    def codes(self) -> set[str]:
        """The codes of all findings."""
        return {f.code for f in self.findings}

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    @property
    def healthy(self) -> bool:
        """No error and no warning (notes may remain)."""
        return not any(f.severity in ("error", "warning") for f in self.findings)

    # --- rendering ----------------------------------------------------------------------------

    def _header(self) -> str:
        loss = "not computed" if self.loss is None else f"{self.loss:.4g}"
        batch = "?" if self.batch_size is None else str(self.batch_size)
        return f"Model check-up: loss {loss} ({self.loss_name}) on a batch of {batch}, {self.mode} mode"

    def table(self) -> list[list[str]]:
        """The table as strings, header first (what both renderings show)."""
        header = ["#", "layer", "type", "activation", "pre-act mean", "pre-act std", "dead", "saturated"]
        header += ["grad RMS", "init var×fan_in"]
        lines = [header]
        for row in self.rows:
            init = "—"
            if row.init_scale is not None:
                init = f"{row.init_scale:.3g}"
                if row.init_scheme:
                    init += f" ≈{row.init_scheme}"
                if row.init_ok is False:
                    init += " ✗"
            lines.append(
                [
                    str(row.index),
                    row.name,
                    row.kind,
                    row.activation or "—",
                    _num(row.preact_mean, "{:+.3g}"),
                    _num(row.preact_std, "{:.3g}"),
                    _pct(row.dead),
                    _pct(row.saturated),
                    _num(row.grad_rms, "{:.2e}"),
                    init,
                ]
            )
        return lines

    def __str__(self) -> str:
        lines = [self._header(), ""]
        table = self.table()
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for k, r in enumerate(table):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        notes = [f"  {row.index}: {row.note}" for row in self.rows if row.note]
        if notes:
            lines += ["", "Notes on rows:", *notes]
        lines.append("")
        if not self.findings:
            lines.append("Findings: none. Nothing in this batch points at a problem the check-up knows.")
        else:
            lines.append("Findings:")
            for f in _ordered(self.findings):
                where = f" [{', '.join(f.layers)}]" if f.layers else ""
                lines.append(f"  {f.severity.upper():7} {f.code}{where}: {f.message}")
                lines.append(f"          {f.meaning}")
                lines.append(f"          see {f.url}")
        if self.not_analysed:
            lines += ["", "Not analysed:", *(f"  - {item}" for item in self.not_analysed)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        table = self.table()
        cell = "padding:2px 8px;white-space:nowrap;text-align:left"
        head = "".join(f"<th style='{cell}'>{esc(c)}</th>" for c in table[0])
        body = "".join("<tr>" + "".join(f"<td style='{cell}'>{esc(c)}</td>" for c in r) + "</tr>" for r in table[1:])
        parts = [
            "<div class='actgrader-checkup'>",
            f"<p><strong>{esc(self._header())}</strong></p>",
            # A region that can scroll must be reachable with the keyboard (axe-core:
            # scrollable-region-focusable): focusable, named.
            "<div style='overflow-x:auto' tabindex='0' role='region' aria-label='check-up table'>",
            f"<table style='border-collapse:collapse;font-size:0.85em'><thead><tr>{head}</tr></thead>",
            f"<tbody>{body}</tbody></table></div>",
        ]
        notes = [row for row in self.rows if row.note]
        if notes:
            items = "".join(f"<li>{row.index}: {esc(row.note)}</li>" for row in notes)
            parts.append(f"<p>Notes on rows:</p><ul>{items}</ul>")
        if not self.findings:
            parts.append("<p>Findings: none. Nothing in this batch points at a problem the check-up knows.</p>")
        else:
            items = []
            for f in _ordered(self.findings):
                where = f" [{esc(', '.join(f.layers))}]" if f.layers else ""
                items.append(
                    f"<li class='checkup-{f.severity}'>"
                    f"<strong style='{_SEVERITY_STYLE}background:{_COLORS[f.severity]}'>"
                    f"{f.severity.upper()}</strong> <code>{esc(f.code)}</code>{where}: {esc(f.message)}<br>"
                    f"{esc(f.meaning)} <a href='{esc(f.url)}'>Read more</a></li>"
                )
            parts.append(f"<p>Findings:</p><ul>{''.join(items)}</ul>")
        if self.not_analysed:
            items = "".join(f"<li>{esc(item)}</li>" for item in self.not_analysed)
            parts.append(f"<p>Not analysed:</p><ul>{items}</ul>")
        parts.append("</div>")
        return "".join(parts)


# Severity labels of the HTML report: white on a dark colour (contrast 6.6 to 7.5), readable
# whatever the page behind them (white, a dark theme, the site's dark-mode output panel).
# Coloured text on the page's own background was not: #b9770e on white is 3.7, below the 4.5
# that axe-core requires.
_COLORS = {"error": "#a93226", "warning": "#7a4a00", "info": "#4d5d6e"}
_SEVERITY_STYLE = "color:#fff;padding:0 0.3em;border-radius:3px;"


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def _num(value: float | None, fmt: str) -> str:
    if value is None:
        return "—"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return fmt.format(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"
