"""Tabular attributions as bar charts and an HTML table, in the project's colors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from integrad.render.colors import (
    NEGATIVE_RGB,
    POSITIVE_RGB,
    css_rgb,
    signed_rgb,
    text_color_on,
)
from integrad.render.html import batch_fragment, esc

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from integrad.results.tabular import TabularExplanation

_OTHER_RGB = (156, 163, 175)  # gray for the "other features" bar: a sum, not one feature


def format_value(value: Any) -> str:
    """A cell as short text: numbers to 4 significant digits, the rest as is."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def _target_text(exp: TabularExplanation, row: int) -> str:
    if exp.target is None or exp.probabilities is None:  # a callable target, or one output
        return "output"
    index = int(exp.target[row])
    text = f"target {exp.target_labels[row] if exp.target_labels else index}"
    return text + f" (p={float(exp.probabilities.iloc[row, index]):.2f})"


def row_figure(exp: TabularExplanation, row: int, max_features: int, ax: Any = None) -> Figure:
    """Horizontal bars of one row's scores, largest magnitude on top; the rest in one bar."""
    from matplotlib.figure import Figure

    scores = exp.attributions.iloc[row]
    order = scores.abs().sort_values(ascending=False).index
    shown, rest = list(order[:max_features]), list(order[max_features:])
    labels = [f"{name} = {format_value(exp.values.iloc[row][name])}" for name in shown]
    values = [float(scores[name]) for name in shown]
    colors = [tuple(c / 255 for c in (POSITIVE_RGB if v > 0 else NEGATIVE_RGB)) for v in values]
    # Error bars: the noise std if measured, else the spread over averaged background rows.
    bars_of = exp.std if exp.std is not None else exp.spread
    errors = None if bars_of is None else [float(bars_of.iloc[row][n]) for n in shown]
    if rest:
        labels.append(f"{len(rest)} other features")
        values.append(float(scores[rest].sum()))
        colors.append(tuple(c / 255 for c in _OTHER_RGB))
        if errors is not None:
            errors.append(0.0)
    if ax is None:
        fig = Figure(figsize=(7.5, 0.9 + 0.32 * len(values)), layout="constrained")
        ax = fig.subplots()
    positions = np.arange(len(values))[::-1]  # the first (largest) bar on top
    ax.barh(positions, values, color=colors, xerr=errors, ecolor="#555", capsize=2)
    # Each value beyond its bar (and its error bar), on the side the bar points to.
    for y, v, e in zip(positions, values, errors or [0.0] * len(values), strict=True):
        ax.text(
            v + np.sign(v) * e,
            y,
            f" {v:+.3g} ",
            va="center",
            fontsize=7,
            ha="left" if v >= 0 else "right",
        )
    ax.margins(x=0.18)  # room for the value labels at the bar ends
    ax.set_yticks(positions, labels, fontsize=8)
    ax.axvline(0, color="#333", linewidth=0.8)
    whiskers = {True: "; bars: noise std", False: "; bars: spread over baselines"}
    note = "" if bars_of is None else whiskers[exp.std is not None]
    ax.set_xlabel(
        f"attribution ({exp.score}); green toward the target, red against{note}", fontsize=8
    )
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(
        f"row {exp.attributions.index[row]}: {_target_text(exp, row)}\n"
        f"F(x) = {float(exp.output[row]):.4g}, F(baseline) = "
        f"{float(exp.baseline_output[row]):.4g}, delta = {float(exp.delta[row]):.1e}\n"
        f"baseline: {exp.baseline}",
        fontsize=9,
    )
    return ax.figure


def summary_figure(exp: TabularExplanation, max_features: int) -> Figure:
    """Horizontal bars of the mean absolute attribution per feature over all rows."""
    from matplotlib.figure import Figure

    summary = exp.summary().iloc[:max_features]
    fig = Figure(figsize=(7.5, 0.9 + 0.32 * len(summary)), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(summary))[::-1]
    ax.barh(positions, summary.to_numpy(), color="#4b5563")
    ax.set_yticks(positions, [str(n) for n in summary.index], fontsize=8)
    ax.set_xlabel(f"mean |attribution| ({exp.score})", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(
        f"Global importance over {len(exp.attributions)} rows (baseline: {exp.baseline})",
        fontsize=9,
    )
    return fig


def tabular_html(exp: TabularExplanation, max_rows: int, max_features: int) -> str:
    """The global summary and one colored table per row (first ``max_rows``)."""
    cell = "padding:2px 8px;border-bottom:1px solid #eee"
    summary = exp.summary().iloc[:max_features]
    top = float(summary.iloc[0]) if len(summary) and summary.iloc[0] > 0 else 1.0
    lines = [
        f'<h3 style="margin:0.3em 0">Mean |attribution| over {len(exp.attributions)} rows</h3>',
        '<table style="border-collapse:collapse;font-size:0.9em">',
    ]
    for name, value in summary.items():
        width = max(1, round(160 * float(value) / top))
        lines.append(
            f'<tr><td style="{cell}">{esc(name)}</td><td style="{cell}">'
            f'<span style="display:inline-block;height:0.8em;width:{width}px;'
            f'background:#4b5563"></span> {float(value):.4g}</td></tr>'
        )
    lines.append("</table>")
    n = len(exp.attributions)
    shown = min(n, max_rows)
    blocks = (_row_html(exp, row, max_features, cell) for row in range(shown))
    return batch_fragment("tabular", exp.target_labels, blocks, n, shown, "rows", "".join(lines))


def _row_html(exp: TabularExplanation, row: int, max_features: int, cell: str) -> str:
    table = exp.row(row).iloc[:max_features]
    scale = float(table["attribution"].abs().max()) or 1.0
    head = (
        f'<h4 style="margin:1em 0 0.3em">Row {esc(exp.attributions.index[row])}: '
        f"{esc(_target_text(exp, row))}</h4>"
        f'<div style="font-size:0.85em;color:#444">F(x) = {float(exp.output[row]):.4g} · '
        f"F(baseline) = {float(exp.baseline_output[row]):.4g} · delta = "
        f"{float(exp.delta[row]):.2e} · baseline: {esc(exp.baseline)}</div>"
    )
    body = [
        '<table style="border-collapse:collapse;font-size:0.9em">'
        f'<tr><th style="{cell};text-align:left">feature</th>'
        f'<th style="{cell};text-align:left">value</th>'
        f'<th style="{cell};text-align:right">attribution</th></tr>'
    ]
    for name, item in table.iterrows():
        rgb = signed_rgb(float(item["attribution"]), scale)
        body.append(
            f'<tr><td style="{cell}">{esc(name)}</td>'
            f'<td style="{cell}">{esc(format_value(item["value"]))}</td>'
            f'<td style="{cell};text-align:right;background:{css_rgb(rgb)};'
            f'color:{text_color_on(rgb)}">{float(item["attribution"]):+.4g}</td></tr>'
        )
    body.append("</table>")
    return head + "".join(body)
