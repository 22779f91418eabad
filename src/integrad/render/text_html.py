"""HTML for text explanations: the text with each word highlighted by its score.

The fragment is self-contained (inline CSS, no script, no external resources), so it can be
pasted into a notebook, an e-mail or a report. Every piece of text that came from the user,
the model or the tokenizer (words, tokens, labels, the model name) goes through ``esc``:
a token such as ``<img src=x onerror=alert(1)>`` renders as those characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrad.render.colors import css_rgb, signed_rgb, text_color_on
from integrad.render.html import BASE_CSS, esc, legend
from integrad.render.summary import integration

if TYPE_CHECKING:
    from integrad.results.text import TextExplanation

_BOX = (
    f"{BASE_CSS} border: 1px solid #d4d4d8; border-radius: 8px; padding: 0.8rem 1rem; "
    "margin: 0.8rem 0; background: #fff"
)
_HEADER = "font-size: 0.9em; color: #333; margin-bottom: 0.4rem"
# pre-wrap keeps the text's own spaces and line breaks between the highlighted words.
_TEXT = "font-size: 1.15em; line-height: 2; white-space: pre-wrap; margin: 0.3rem 0"
_WORD = "padding: 0.1em 0.12em; border-radius: 3px"
_SPECIAL = (
    "font-family: ui-monospace, monospace; font-size: 0.7em; color: #555; "
    "border: 1px dashed #a1a1aa; border-radius: 3px; padding: 0 0.2em; margin: 0 0.15em"
)
_FOOT = "font-size: 0.85em; color: #444; margin-top: 0.3rem"
_UNEXPLAINED = "color: #9ca3af"


def _fmt(value: float) -> str:
    return f"{value:+.3g}"


def _difference(a: float, b: float) -> str:
    """``a − b`` with a negative ``b`` in parentheses, so no ``− -2`` appears."""
    return f"{a:.4g} − {b:.4g}" if b >= 0 else f"{a:.4g} − ({b:.4g})"


def _scale(e: TextExplanation) -> float:
    """The largest magnitude among word and special-token scores: full color intensity."""
    values = [abs(s) for s in e.word_scores]
    values += [abs(s) for s, sp in zip(e.token_scores, e.special_tokens, strict=True) if sp]
    return max(values, default=0.0)


def word_html(text: str, score: float, scale: float) -> str:
    """One highlighted word; ``data-score`` holds its exact score (for scripts and tests)."""
    rgb = signed_rgb(score, scale)
    style = f"{_WORD}; background: {css_rgb(rgb)}; color: {text_color_on(rgb)}"
    return (
        f'<span title="{esc(text)}: {_fmt(score)}" data-score="{float(score)!r}" style="{style}">'
        f"{esc(text)}</span>"
    )


def special_html(token: str, score: float, scale: float) -> str:
    """One special token ([CLS], <s>, ...), boxed, colored by its score like a word."""
    background = css_rgb(signed_rgb(score, scale))
    title = esc(f"special token {token}: {_fmt(score)}")
    style = f"{_SPECIAL}; background: {background}"
    return (
        f'<span title="{title}" data-score="{float(score)!r}" style="{style}">{esc(token)}</span>'
    )


def _highlighted_text(e: TextExplanation, scale: float) -> str:
    """The text in reading order: gaps as plain text, words highlighted, special tokens marked."""
    parts: list[str] = []
    for kind, text, score in e.pieces():
        if kind == "special":
            parts.append(special_html(text, score, scale))
        elif kind == "word":
            parts.append(word_html(text, score, scale))
        elif kind == "rest" and e.truncated:
            parts.append(f'<span style="{_UNEXPLAINED}" title="not explained">{esc(text)}</span>')
        else:
            parts.append(esc(text))
    return "".join(parts)


def _probabilities(e: TextExplanation) -> str:
    items = []
    for i, (label, p) in enumerate(zip(e.labels, e.probabilities, strict=True)):
        item = f"{esc(label)} {p:.3f}"
        items.append(f"<b>{item}</b>" if i == e.predicted else item)
    return " · ".join(items)


def explanation_html(e: TextExplanation) -> str:
    """One explanation as an HTML fragment (see the module docstring)."""
    scale = _scale(e)
    prob = e.probabilities[e.predicted]
    header = (
        f'<div style="{_HEADER}"><b style="font-size:1.1em">{esc(e.predicted_label)}</b> '
        f"(p = {prob:.3f}) &nbsp;·&nbsp; explaining the {esc(e.score)} of "
        f"<b>{esc(e.target_label)}</b> &nbsp;·&nbsp; model: {esc(e.model_name)}</div>"
    )
    change = e.output - e.baseline_output
    relative = abs(e.delta) / abs(change) if change else float("inf")
    foot = (
        f'<div style="{_FOOT}">Scores sum to {e.total:.4g} = F(x) − F(x′) = '
        f"{_difference(e.output, e.baseline_output)}, completeness delta {e.delta:.2g} "
        f"({relative:.1e} relative) &nbsp;·&nbsp; baseline {esc(e.baseline)}, "
        f"{esc(integration(e.method, e.n_evals, e.error_estimate))}</div>"
        f'<div style="{_FOOT}">Class probabilities: {_probabilities(e)}</div>'
    )
    if e.baseline_probabilities is not None:
        at_baseline = " · ".join(
            f"{esc(label)} {p:.3f}"
            for label, p in zip(e.labels, e.baseline_probabilities, strict=True)
        )
        foot += f'<div style="{_FOOT}">At the baseline: {at_baseline}</div>'
    if e.baseline_note:
        foot += f'<div style="{_FOOT}; color: #b45309">Note: {esc(e.baseline_note)}</div>'
    if e.truncated:
        foot += (
            f'<div style="{_FOOT}; color: #b45309">The text was longer than the model\'s '
            "maximum length; the grey end was cut off and is not explained.</div>"
        )
    return (
        f'<div class="integrad-text" style="{_BOX}">{header}'
        f'<div style="{_TEXT}">{_highlighted_text(e, scale)}</div>'
        f"{legend(e.target_label)}{foot}</div>"
    )
