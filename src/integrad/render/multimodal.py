"""Multimodal explanations as bar charts and colored chips, in the project's colors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb, signed_rgb, text_color_on
from integrad.render.html import batch_fragment, esc

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from integrad.results.multimodal import FeatureScore, MultimodalExplanation


def _rgb01(value: float) -> tuple[float, ...]:
    return tuple(c / 255 for c in (POSITIVE_RGB if value > 0 else NEGATIVE_RGB))


def _label(feature: FeatureScore) -> str:
    return f"{feature.name} = {feature.value}" if feature.value else feature.name


def headline(exp: MultimodalExplanation, index: int) -> str:
    """Target, probability and the completeness numbers of one example, as one line."""
    parts = []
    if exp.target is not None:
        label = exp.target_labels[index] if exp.target_labels else str(int(exp.target[index]))
        parts.append(f"target {label}")
        if exp.probabilities is not None:
            parts.append(f"p={float(exp.probabilities[index, int(exp.target[index])]):.2f}")
    parts.append(
        f"F(x) = {float(exp.output[index]):.4g}, F(baseline) = "
        f"{float(exp.baseline_output[index]):.4g}, delta = {float(exp.delta[index]):.1e}"
    )
    return " · ".join(parts)


def shares_readable(exp: MultimodalExplanation, index: int) -> bool:
    """Whether shares mean something: the output moved by at least a quarter of the summed
    magnitudes of the modality totals. Otherwise the modalities mostly cancel, and dividing
    by the small difference gives shares like 3000% that say nothing."""
    moved = abs(float(exp.output[index] - exp.baseline_output[index]))
    return moved >= 0.25 * sum(abs(float(t[index])) for t in exp.modality_totals.values())


def _chosen(features: list[FeatureScore], limit: int) -> list[FeatureScore]:
    """The ``limit`` largest by magnitude, kept in input order (a sentence stays readable)."""
    if len(features) <= limit:
        return features
    keep = set(sorted(range(len(features)), key=lambda i: -abs(features[i].score))[:limit])
    return [f for i, f in enumerate(features) if i in keep]


def example_figure(exp: MultimodalExplanation, index: int, max_features: int) -> Figure:
    """Modality shares on top, then one panel of feature bars per modality."""
    from matplotlib.figure import Figure

    groups = list(exp.modality_totals)
    per_group = {
        m: _chosen([f for f in exp.features[index] if f.modality == m], max_features)
        for m in groups
    }
    heights = [len(groups)] + [max(1, len(per_group[m])) for m in groups]
    fig = Figure(figsize=(7.5, 1.2 + 0.3 * sum(heights) + 0.5 * len(heights)), layout="constrained")
    axes = fig.subplots(len(heights), 1, height_ratios=heights)
    totals = [float(exp.modality_totals[m][index]) for m in groups]
    if shares_readable(exp, index):
        names = [f"{m} ({float(exp.shares[m][index]):.0%})" for m in groups]
        title = "each modality's total (share of F(x) - F(baseline))"
    else:
        names, title = groups, "each modality's total (they mostly cancel: no shares)"
    _bars(axes[0], names, totals)
    axes[0].set_title(title, fontsize=9)
    for ax, m in zip(axes[1:], groups, strict=True):
        chosen = per_group[m]
        _bars(ax, [_label(f) for f in chosen], [f.score for f in chosen])
        hidden = sum(1 for f in exp.features[index] if f.modality == m) - len(chosen)
        ax.set_title(
            m + (f" (top {len(chosen)}; {hidden} more not shown)" if hidden else ""), fontsize=9
        )
    axes[-1].set_xlabel(
        f"attribution ({exp.score}); green toward the target, red against", fontsize=8
    )
    fig.suptitle(headline(exp, index), fontsize=9)
    return fig


def _bars(ax: object, labels: list[str], values: list[float]) -> None:
    positions = np.arange(len(values))[::-1]  # the first item on top
    bars = ax.barh(positions, values, color=[_rgb01(v) for v in values])  # type: ignore[attr-defined]
    ax.bar_label(bars, [f"{v:+.3g}" for v in values], fontsize=7, padding=3)  # type: ignore[attr-defined]
    ax.margins(x=0.18)  # type: ignore[attr-defined]
    ax.set_yticks(positions, labels, fontsize=8)  # type: ignore[attr-defined]
    ax.axvline(0, color="#333", linewidth=0.8)  # type: ignore[attr-defined]
    ax.tick_params(axis="x", labelsize=7)  # type: ignore[attr-defined]


def multimodal_html(exp: MultimodalExplanation, max_examples: int) -> str:
    """Per example: the headline, a table of modality shares and colored feature chips."""
    n = len(exp.features)
    shown = min(n, max_examples)
    blocks = (_example_block(exp, index) for index in range(shown))
    return batch_fragment("multimodal", exp.target_labels, blocks, n, shown, "examples")


def _example_block(exp: MultimodalExplanation, index: int) -> str:
    cell = "padding:2px 8px;border-bottom:1px solid #eee"
    parts = [
        f'<h4 style="margin:1em 0 0.3em">Example {index}: {esc(headline(exp, index))}</h4>',
        '<table style="border-collapse:collapse;font-size:0.9em">',
        f'<tr><th style="{cell};text-align:left">modality</th>'
        f'<th style="{cell};text-align:right">total</th>'
        f'<th style="{cell};text-align:right">share</th></tr>',
    ]
    for m, total in exp.modality_totals.items():
        share = float(exp.shares[m][index])
        shown = f"{share:.0%}" if shares_readable(exp, index) else "–"
        parts.append(
            f'<tr><td style="{cell}">{esc(m)}</td><td style="{cell};text-align:right">'
            f'{float(total[index]):+.4g}</td><td style="{cell};text-align:right">'
            f"{shown}</td></tr>"
        )
    parts.append("</table>")
    if not shares_readable(exp, index):
        parts.append(
            '<div style="font-size:0.8em;color:#666">No shares: the modalities mostly '
            "cancel, so F(x) - F(baseline) is small next to their totals.</div>"
        )
    features = exp.features[index]
    scale = max((abs(f.score) for f in features), default=0.0) or 1.0
    for m in exp.modality_totals:
        chips = [_chip(f, scale) for f in features if f.modality == m]
        parts.append(
            f'<div style="margin:0.4em 0"><b style="font-size:0.85em">{esc(m)}</b> '
            f"{' '.join(chips)}</div>"
        )
    return "".join(parts)


def _chip(feature: FeatureScore, scale: float) -> str:
    rgb = signed_rgb(feature.score, scale)
    title = f"{_label(feature)}: {feature.score:+.4g}"
    return (
        f'<span title="{esc(title)}" style="display:inline-block;margin:2px 1px;padding:0 4px;'
        f'border-radius:3px;background:{css_rgb(rgb)};color:{text_color_on(rgb)}">'
        f"{esc(_label(feature))}"
        f'<sub style="font-size:0.7em;margin-left:3px">{feature.score:+.2g}</sub></span>'
    )
