"""Views of a generation explanation: an HTML heatmap, a terminal summary, a matplotlib heatmap.

Rows are the generated tokens, columns the context tokens; a cell is green where the context
token pushed the generated token's score up, red where it pushed it down, and gray where the
generated token could not see that context token (it came later). Every string from the
model, tokenizer or user goes through ``esc`` (HTML), ``Text.append`` (rich, never markup)
or ``parse_math=False`` (matplotlib), so a token such as ``<script>`` shows as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from rich.color import Color
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from integrad.errors import InputError
from integrad.render.colors import (
    NEGATIVE_RGB,
    NEUTRAL_RGB,
    POSITIVE_RGB,
    css_rgb,
    signed_rgb,
    text_color_on,
)
from integrad.render.html import BASE_CSS, esc, legend
from integrad.render.summary import integration

if TYPE_CHECKING:
    from integrad.results.generation import GenerationExplanation

#: Most prompts drawn into one figure by :func:`plot_generations`.
MAX_PLOTS = 8
#: A generated token whose |delta| is above this share of its output change is marked in red.
OFF_SHARE = 0.05
_UNSEEN = "#e4e4e7"  # cells a generated token could not see
_NORMALIZE = ("row", "all")
# Word-start and newline markers of byte-level BPE and SentencePiece, shown readably.
_MARKERS = str.maketrans({"Ġ": "␣", "▁": "␣", "Ċ": "↵", "\n": "↵", "\t": "⇥"})

_BOX = (
    f"{BASE_CSS} max-width: none; border: 1px solid #d4d4d8; border-radius: 8px; "
    "padding: 0.8rem 1rem; margin: 0.8rem 0; background: #fff"
)
_HEAD = (
    "writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; "
    "font-weight: normal; font-size: 11px; padding: 2px 0; max-height: 9em; overflow: hidden; "
    "text-overflow: ellipsis"
)
_CELL = "width: 14px; min-width: 14px; height: 16px; padding: 0; border: 1px solid #fff"
_ROW_HEAD = "text-align: right; padding: 0 0.5em; white-space: nowrap; font-size: 12px"
_NUM = "text-align: right; padding: 0 0.5em; font-size: 11px; color: #444; white-space: nowrap"


def display_token(token: str) -> str:
    """A token as shown in views: word-start markers as ␣, newlines as ↵."""
    return token.translate(_MARKERS)


def _columns(e: GenerationExplanation, hide_template: bool) -> list[int]:
    return [c for c in range(len(e.context_tokens)) if not (hide_template and e.template[c])]


def _check_normalize(normalize: str) -> None:
    if normalize not in _NORMALIZE:
        raise InputError(f"normalize must be one of {list(_NORMALIZE)}; got {normalize!r}")


def _cell(value: float, scale: float, title: str) -> str:
    rgb = signed_rgb(value, scale)
    return f'<td title="{esc(title)}" style="{_CELL}; background: {css_rgb(rgb)}"></td>'


def generation_html(
    e: GenerationExplanation, hide_template: bool = False, normalize: str = "row"
) -> str:
    """The heatmap as a self-contained HTML fragment (inline CSS, no script).

    Args:
        e: The explanation.
        hide_template: Leave out the columns of tokens a chat template added.
        normalize: ``"row"`` gives each row its own color scale; ``"all"`` one for all rows.
    """
    _check_normalize(normalize)
    m = e.matrix
    cols = _columns(e, hide_template)
    tokens = [display_token(t) for t in e.context_tokens]
    head = [
        '<th style="text-align:right;padding-right:0.5em;font-size:11px;color:#666">'
        "generated \u2193 / context \u2192</th>"
    ]
    for c in cols:
        style = _HEAD + ("; color: #888; font-style: italic" if e.special[c] else "")
        if c == e.n_prompt:  # where the output side begins
            style += "; border-left: 2px solid #71717a"
        head.append(f'<th title="{esc(e.context_tokens[c])}" style="{style}">{esc(tokens[c])}</th>')
    head.append(f'<th style="{_NUM}">{esc(e.score)}</th><th style="{_NUM}">delta</th>')
    if e.stability is not None:
        head.append(f'<th style="{_NUM}" title="{esc(STABILITY_HELP)}">stability</th>')
    overall = float(np.abs(m).max()) if m.size else 0.0
    body = []
    for j, token in enumerate(e.generated_tokens):
        scale = float(np.abs(m[j]).max()) if normalize == "row" else overall
        cells = [f'<th style="{_ROW_HEAD}" title="{esc(token)}">{esc(display_token(token))}</th>']
        for c in cols:
            if c >= e.n_visible[j]:
                cells.append(f'<td style="{_CELL}; background: {_UNSEEN}"></td>')
                continue
            title = f"{token} \u2190 {e.context_tokens[c]}: {m[j, c]:+.4g}"
            if e.std is not None:
                title += f" \u00b1 {e.std[j][c]:.2g}"
            cell = _cell(float(m[j, c]), scale, title)
            if unsteady(e, j, c):  # a dotted frame: the noise moves it more than its size
                cell = cell.replace("border: 1px solid #fff", "border: 2px dotted #a16207")
            cells.append(cell)
        cells.append(f'<td style="{_NUM}">{e.output[j]:.3g}</td>')
        change = e.output[j] - e.baseline_output[j]
        off = abs(e.delta[j]) > OFF_SHARE * max(abs(change), 1e-12)
        mark = "; color: #b91c1c; font-weight: bold" if off else ""
        title = f"{abs(e.delta[j]) / max(abs(change), 1e-12):.1%} of the change {change:+.3g}"
        cells.append(f'<td style="{_NUM}{mark}" title="{esc(title)}">{e.delta[j]:.1e}</td>')
        if e.stability is not None:
            low = "; color: #b91c1c; font-weight: bold" if unstable(e, j) else ""
            cells.append(f'<td style="{_NUM}{low}">{stability_text(e, j)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    seq = np.asarray(e.sequence_scores)
    seq_scale = float(np.abs(seq).max()) if seq.size else 0.0
    cells = [f'<th style="{_ROW_HEAD}; border-top: 2px solid #71717a">whole output</th>']
    for c in cols:
        title = f"whole output \u2190 {e.context_tokens[c]}: {seq[c]:+.4g}"
        cells.append(_cell(float(seq[c]), seq_scale, title))
    cells.append(f'<td style="{_NUM}">{e.sequence_output:.3g}</td>')
    cells.append(f'<td style="{_NUM}">{e.sequence_delta:.1e}</td>')
    if e.stability is not None:
        cells.append(f'<td style="{_NUM}"></td>')
    body.append("<tr>" + "".join(cells) + "</tr>")
    hidden = len(e.context_tokens) - len(cols)
    note = f"; {hidden} chat-template tokens hidden" if hidden else ""
    table = (
        '<div style="overflow-x:auto"><table style="border-collapse:collapse">'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    scaling = "each row scaled to its largest cell" if normalize == "row" else "one scale"
    foot = (
        f"{esc(e.score)} of each generated token attributed to its context; baseline "
        f"{esc(e.baseline)}; {esc(integration(e.method, e.n_evals, e.error_estimate))}; "
        "largest |delta| "
        f"{max((abs(d) for d in e.delta), default=0.0):.1e}; {scaling}{esc(note)}; gray: "
        "not yet generated, so not seen; a red delta is above 5% of its token's change: "
        "integrate more accurately (lower --tol) before trusting that row"
        + (
            ""
            if e.std is None
            else "; dotted frame: the spread across the noisy samples is larger than the score; "
            + STABILITY_HELP
        )
    )
    return (
        f'<div style="{_BOX}">'
        f'<div style="font-size:0.9em;color:#333"><b>prompt</b> <span style="white-space:'
        f'pre-wrap">{esc(e.prompt)}</span></div>'
        f'<div style="font-size:0.9em;color:#333;margin-bottom:0.4rem"><b>'
        f"{'forced output' if e.forced else 'generated'}</b> "
        f'<span style="white-space:pre-wrap">{esc(e.generated_text)}</span></div>'
        f"{table}{legend('the generated token')}"
        f'<div style="font-size:0.8em;color:#555;margin-top:0.3rem">{foot}</div></div>'
    )


def _style(value: float, scale: float) -> Style:
    rgb = signed_rgb(value, scale)
    # text_color_on gives CSS shorthand (#000 / #fff), which rich does not parse.
    text = "black" if text_color_on(rgb) == "#000" else "white"
    return Style(bgcolor=Color.from_rgb(*rgb), color=Color.parse(text))


def _labels(e: GenerationExplanation) -> list[str]:
    """Context tokens as shown; a token that occurs more than once gets its position."""
    shown = [display_token(t) for t in e.context_tokens]
    repeated = {t for t in shown if shown.count(t) > 1}
    return [f"{t}@{c}" if t in repeated else t for c, t in enumerate(shown)]


def _top(e: GenerationExplanation, j: int, sign: int, k: int, labels: list[str]) -> Text:
    seen = [c for c in range(e.n_visible[j]) if not e.special[c] and sign * e.scores[j][c] > 0]
    seen.sort(key=lambda c: -sign * e.scores[j][c])
    color = Style(color=Color.from_rgb(*(POSITIVE_RGB if sign > 0 else NEGATIVE_RGB)))
    out = Text()
    for n, c in enumerate(seen[:k]):
        out.append(", " if n else "")
        out.append(labels[c], style=color)
        out.append(f" {e.scores[j][c]:+.2g}")
        if unsteady(e, j, c):
            out.append("~", style="bold yellow")
    return out if seen else Text("none", style="dim")


#: Below this rank stability, a generated token's context order is mostly noise.
STABLE_LIMIT = 0.5
STABILITY_HELP = (
    "stability: how alike the noisy samples rank the context tokens (mean Spearman correlation"
    f" with the average, 1 = always the same order); below {STABLE_LIMIT} in red"
)


def stability_text(e: GenerationExplanation, j: int) -> str:
    """Generated token ``j``'s rank stability as shown ("n/a" with under two context tokens)."""
    value = None if e.stability is None else e.stability[j]
    return "n/a" if value is None else f"{value:.2f}"


def unstable(e: GenerationExplanation, j: int) -> bool:
    """Whether the noisy samples disagree on how generated token ``j``'s context ranks."""
    value = None if e.stability is None else e.stability[j]
    return value is not None and value < STABLE_LIMIT


def unsteady(e: GenerationExplanation, j: int, c: int) -> bool:
    """Whether cell (j, c)'s spread across the noisy samples is larger than its size."""
    return e.std is not None and e.std[j][c] > abs(e.scores[j][c])


def generation_renderable(e: GenerationExplanation, k: int = 3) -> Group:
    """What ``rich.print(explanation)`` shows: the context colored by its share of the
    whole output, then each generated token with the context tokens that moved it most."""
    seq = e.sequence_scores
    scale = max((abs(s) for s in seq), default=0.0)
    context = Text()
    for c, token in enumerate(e.context_tokens):
        style = Style(dim=True, italic=True) if e.special[c] else _style(seq[c], scale)
        context.append(display_token(token), style=style)
        context.append(" ")
    context.append("\u2192 ", style="dim")
    context.append(e.generated_text, style="bold")
    labels = _labels(e)
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
    for name in ("generated", e.score, "change", "delta"):
        table.add_column(name, justify="right", no_wrap=True)
    if e.stability is not None:
        table.add_column("stable", justify="right", no_wrap=True)
    table.add_column("pushed up by")
    table.add_column("pushed down by")
    for j, token in enumerate(e.generated_tokens):
        change = e.output[j] - e.baseline_output[j]
        # Completeness error above 5% of the change: the row's scores are not to be trusted.
        off = abs(e.delta[j]) > OFF_SHARE * max(abs(change), 1e-12)
        cells = [
            Text(display_token(token), style="bold"),
            f"{e.output[j]:.3f}",
            f"{change:+.3f}",
            Text(f"{e.delta[j]:+.1e}", style="bold red" if off else "dim"),
        ]
        if e.stability is not None:
            cells.append(Text(stability_text(e, j), style="bold red" if unstable(e, j) else ""))
        table.add_row(*cells, _top(e, j, 1, k, labels), _top(e, j, -1, k, labels))
    steady = (
        ""
        if e.std is None
        else "; ~: spread across the noisy samples larger than the score (do not trust it); "
        + STABILITY_HELP
    )
    foot = Text(
        f"{len(e.generated_tokens)} tokens {'forced' if e.forced else 'generated'}; "
        f"whole output {e.score} {e.sequence_output:.4g}; baseline {e.baseline}; "
        f"{integration(e.method, e.n_evals, e.error_estimate)}; largest |delta| "
        f"{max((abs(d) for d in e.delta), default=0.0):.1e}{steady}",
        style="dim",
    )
    return Group(context, table, foot)


def _colormap() -> LinearSegmentedColormap:
    colors = [tuple(v / 255 for v in rgb) for rgb in (NEGATIVE_RGB, NEUTRAL_RGB, POSITIVE_RGB)]
    return LinearSegmentedColormap.from_list("integrad", colors).with_extremes(bad=_UNSEEN)


def _size(e: GenerationExplanation, n_cols: int) -> tuple[float, float]:
    return (max(5.0, 0.22 * n_cols + 2.5), max(2.5, 0.24 * len(e.generated_tokens) + 1.8))


def _draw(e: GenerationExplanation, ax: Any, hide_template: bool) -> Any:
    cols = _columns(e, hide_template)
    m = e.matrix[:, cols]
    unseen = np.array([[c >= e.n_visible[j] for c in cols] for j in range(m.shape[0])])
    limit = float(np.abs(m).max()) or 1.0
    image = ax.imshow(
        np.ma.masked_array(m, unseen), cmap=_colormap(), vmin=-limit, vmax=limit, aspect="auto"
    )
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(
        [display_token(e.context_tokens[c]) for c in cols], rotation=90, parse_math=False
    )
    ax.set_yticks(range(len(e.generated_tokens)))
    ax.set_yticklabels([display_token(t) for t in e.generated_tokens], parse_math=False)
    ax.tick_params(labelsize=8, length=0)
    if e.n_prompt in cols:
        ax.axvline(cols.index(e.n_prompt) - 0.5, color="#71717a", linewidth=1)
    title = f"{e.score} per generated token; |delta| \u2264 {max(map(abs, e.delta)):.0e}"
    ax.set_title(title, fontsize=9, loc="left", parse_math=False)
    ax.set_xlabel("context (prompt | generated)", fontsize=8)
    ax.set_ylabel("generated", fontsize=8)
    return image


def plot_generation(
    e: GenerationExplanation, ax: Any = None, hide_template: bool = False
) -> Figure:
    """A heatmap of the scores, one signed color scale, gray where a token saw nothing.

    Example:
        >>> e.plot().savefig("generation.png", dpi=150)  # doctest: +SKIP
    """
    if ax is None:
        fig = Figure(figsize=_size(e, len(_columns(e, hide_template))), layout="constrained")
        ax = fig.add_subplot()
    image = _draw(e, ax, hide_template)
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="attribution")
    return ax.figure


def plot_generations(items: Sequence[GenerationExplanation], hide_template: bool = False) -> Figure:
    """One heatmap per prompt, stacked (at most :data:`MAX_PLOTS`)."""
    if not items:
        raise InputError("there is nothing to plot: the list of explanations is empty")
    if len(items) > MAX_PLOTS:
        raise InputError(
            f"plotting {len(items)} prompts in one figure would be unreadable; at most "
            f"{MAX_PLOTS} fit. Plot them one by one: items[i].plot().savefig(...)"
        )
    sizes = [_size(e, len(_columns(e, hide_template))) for e in items]
    fig = Figure(figsize=(max(w for w, _ in sizes), sum(h for _, h in sizes)), layout="constrained")
    axes = fig.subplots(len(items), 1, height_ratios=[h for _, h in sizes], squeeze=False)[:, 0]
    for e, ax in zip(items, axes, strict=True):
        fig.colorbar(_draw(e, ax, hide_template), ax=ax, shrink=0.8, label="attribution")
    return fig
