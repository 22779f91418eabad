"""Colored terminal output with rich: the text with words on green or red backgrounds.

Text from the model or the user is only ever added with ``Text.append``, which takes it
literally, so a word such as ``[bold]`` is printed as written, never read as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color
from rich.console import Group
from rich.style import Style
from rich.text import Text

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, signed_rgb, text_color_on
from integrad.render.summary import integration

if TYPE_CHECKING:
    from integrad.results.text import TextExplanation

_SPECIAL = Style(dim=True, italic=True)


def _style(score: float, scale: float) -> Style:
    rgb = signed_rgb(score, scale)
    foreground = "black" if text_color_on(rgb) == "#000" else "white"
    return Style(bgcolor=Color.from_rgb(*rgb), color=foreground)


def colored_text(e: TextExplanation) -> Text:
    """The text with each word on its score's color; special tokens dim, at their places."""
    scale = max((abs(s) for s in e.word_scores), default=0.0)
    out = Text()
    for kind, text, score in e.pieces():
        if kind == "special":
            out.append(f" {text}" if out else f"{text} ", style=_SPECIAL)
        elif kind == "word":
            out.append(text, style=_style(score, scale))
        else:
            out.append(text, style=Style(dim=True) if kind == "rest" and e.truncated else None)
    return out


def _top(e: TextExplanation, sign: int, k: int = 3) -> str:
    ranked = sorted(range(len(e.words)), key=lambda i: -sign * e.word_scores[i])
    picked = [i for i in ranked[:k] if sign * e.word_scores[i] > 0]
    return ", ".join(f"{_named(e, i)} {e.word_scores[i]:+.3g}" for i in picked) or "none"


def _named(e: TextExplanation, i: int) -> str:
    """Word ``i``, with its occurrence when the text repeats it ("great (2nd)")."""
    word = _quoted(e.words[i])
    same = [j for j, w in enumerate(e.words) if w.lower() == e.words[i].lower()]
    if len(same) == 1:
        return word
    n = same.index(i) + 1
    return f"{word} ({n}{'st' if n == 1 else 'nd' if n == 2 else 'rd' if n == 3 else 'th'})"


def _quoted(word: str) -> str:
    # Punctuation reads better quoted: '"," +0.2' rather than ', +0.2'.
    return word if word.isalnum() else f'"{word}"'


def summary(e: TextExplanation) -> Text:
    """Label, probability, what was explained, the strongest words and the delta."""
    prob = e.probabilities[e.predicted]
    out = Text()
    out.append(e.predicted_label, style="bold")
    out.append(f" (p = {prob:.3f})   explaining the {e.score} of ")
    out.append(e.target_label, style="bold")
    out.append(f"\ntoward {e.target_label}: ")
    out.append(_top(e, 1), style=Style(color=Color.from_rgb(*POSITIVE_RGB)))
    out.append(f"\nagainst {e.target_label}: ")
    out.append(_top(e, -1), style=Style(color=Color.from_rgb(*NEGATIVE_RGB)))
    base = f"{e.baseline_output:.4g}" if e.baseline_output >= 0 else f"({e.baseline_output:.4g})"
    out.append(
        f"\nscores sum to {e.total:.4g} = F(x) - F(x') = {e.output:.4g} - {base}; "
        f"delta {e.delta:.2g} ({integration(e.method, e.n_evals, e.error_estimate)}, "
        f"baseline {e.baseline})",
        style="dim",
    )
    if e.baseline_probabilities is not None:
        shown = ", ".join(
            f"{label} {p:.2f}" for label, p in zip(e.labels, e.baseline_probabilities, strict=True)
        )
        out.append(f"\nthe baseline reads as: {shown}", style="dim")
    if e.baseline_note:
        out.append(f"\nnote: {e.baseline_note}", style="yellow")
    if e.truncated:
        out.append(
            "\ntruncated: the text was longer than the model allows; the dim end is not explained",
            style="yellow",
        )
    return out


def explanation_renderable(e: TextExplanation) -> Group:
    """What ``rich.print(explanation)`` shows: the colored text and the summary."""
    return Group(colored_text(e), summary(e))
