"""Bar charts of word scores with matplotlib.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot, so making many
charts in a loop leaks no global figures and needs no display; ``fig.savefig("x.png")``
writes them. Words are drawn with math parsing off: a word like ``$x$`` stays as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from integrad.errors import InputError
from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB

if TYPE_CHECKING:
    from integrad.results.text import TextExplanation

#: Most texts drawn into one figure by :func:`plot_many`.
MAX_PLOTS = 12
_ROW_INCHES = 0.32
_PAD_INCHES = 1.5
_TITLE_CHARS = 70


def _rgb(value: tuple[int, int, int]) -> tuple[float, float, float]:
    return (value[0] / 255, value[1] / 255, value[2] / 255)


def _height(e: TextExplanation) -> float:
    return _ROW_INCHES * max(len(e.words), 1) + _PAD_INCHES


def _draw(e: TextExplanation, ax: Any) -> None:
    positions = list(range(len(e.words)))
    colors = [_rgb(POSITIVE_RGB if s > 0 else NEGATIVE_RGB) for s in e.word_scores]
    ax.barh(positions, e.word_scores, color=colors, height=0.7)
    ax.set_yticks(positions)
    ax.set_yticklabels(e.words, parse_math=False)
    ax.invert_yaxis()  # reading order, top to bottom
    ax.axvline(0.0, color="#71717a", linewidth=0.8)
    ax.set_xlabel(f"contribution to the {e.score} of {e.target_label}", parse_math=False)
    prob = e.probabilities[e.predicted]
    text = " ".join(e.text.split())  # one line, however the text was broken
    text = text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1] + "…"
    title = f"{text}\n{e.predicted_label} (p = {prob:.3f}); completeness delta {e.delta:.1e}"
    ax.set_title(title, fontsize=10, loc="left", parse_math=False)
    ax.grid(axis="x", color="#e4e4e7", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_word_scores(e: TextExplanation, ax: Any = None) -> Figure:
    """One horizontal bar per word, green toward the target and red against it.

    Args:
        e: The explanation.
        ax: Axes to draw into; None makes a new figure sized to the number of words.

    Returns:
        The matplotlib Figure.

    Example:
        >>> fig = integrad.explain(None, "Great food!").plot()  # doctest: +SKIP
        >>> fig.savefig("words.png", dpi=150)  # doctest: +SKIP
    """
    if ax is None:
        fig = Figure(figsize=(6.4, _height(e)), layout="constrained")
        ax = fig.add_subplot()
    _draw(e, ax)
    return ax.figure


def plot_many(items: Sequence[TextExplanation]) -> Figure:
    """One chart per text, stacked in one figure (at most :data:`MAX_PLOTS` texts)."""
    if not items:
        raise InputError("there is nothing to plot: the list of explanations is empty")
    if len(items) > MAX_PLOTS:
        raise InputError(
            f"plotting {len(items)} texts in one figure would be unreadable; at most {MAX_PLOTS} "
            "fit. Plot them one by one: for i, e in enumerate(items): e.plot().savefig(...)"
        )
    heights = [_height(e) for e in items]
    fig = Figure(figsize=(6.4, sum(heights)), layout="constrained")
    axes = fig.subplots(len(items), 1, height_ratios=heights, squeeze=False)[:, 0]
    for e, ax in zip(items, axes, strict=True):
        _draw(e, ax)
    return fig


def plot_attribution(result: Any, index: int, ax: Any = None) -> Figure:
    """One example of an engine result: a bar per feature of every attributed tensor.

    Each tensor is summed down to its first dimension after the batch (one bar per token,
    channel or column); with several inputs, one row of bars each.
    """
    tensors = _flat_tensors(result.attributions)
    if ax is not None and len(tensors) > 1:
        raise InputError("this result has several attributed tensors; plot it into a new figure")
    rows = []
    for name, tensor in tensors:
        value = tensor[index].detach().double().cpu()
        if result.delta.dim() > 1:  # several targets: the first target's attributions
            value = value[0]
        rows.append(
            (name, value.reshape(value.shape[0], -1).sum(1) if value.dim() else value[None])
        )
    if ax is None:
        fig = Figure(figsize=(6.4, 1.2 + 1.6 * len(rows)), layout="constrained")
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    else:
        axes = [ax]
    for (name, values), axis in zip(rows, axes, strict=True):
        colors = [_rgb(POSITIVE_RGB if v > 0 else NEGATIVE_RGB) for v in values.tolist()]
        axis.bar(range(values.shape[0]), values.tolist(), color=colors)
        axis.axhline(0.0, color="#71717a", linewidth=0.8)
        axis.set_ylabel(str(name), parse_math=False)
    delta = float(result.delta.reshape(result.delta.shape[0], -1)[index, 0])
    axes[0].set_title(f"example {index}: completeness delta {delta:.1e}", fontsize=10, loc="left")
    return axes[0].figure


def _flat_tensors(value: Any, name: str = "input") -> list[tuple[str, Any]]:
    """The tensors of a tensor / tuple / list / dict structure, with readable names."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _flat_tensors(v, str(k))]
    if isinstance(value, (tuple, list)):
        return [t for i, v in enumerate(value) for t in _flat_tensors(v, f"{name}[{i}]")]
    return [(name, value)]
