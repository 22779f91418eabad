"""HTML fragments of results for the web view, built on integrad's own renderers.

The colored text is :meth:`TextExplanation.to_html` (or its word renderer, for rows read back
from a run), so colors and legend are those of the HTML export. Around it: the numbers of
completeness in a table whose cells carry their exact values (``data-value``), a bar chart
of the word scores, and for generations the context colored by any generated token's scores.
Every string from users, models and datasets goes through ``esc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb, signed_rgb, text_color_on
from integrad.render.generation import display_token
from integrad.render.html import esc, legend
from integrad.render.text_html import word_html


def _num(value: float | None, digits: str = ".4g") -> str:
    return "—" if value is None else format(value, digits)


def stats_table(items: Sequence[tuple[str, str, float | int | None, str]]) -> str:
    """A two-column table of ``(label, key, value, format)``; each value cell carries
    ``data-stat="key"`` and its exact value in ``data-value``."""
    rows = []
    for label, key, value, digits in items:
        exact = "" if value is None else f' data-value="{float(value)!r}"'
        rows.append(
            f'<tr><th scope="row">{esc(label)}</th>'
            f'<td data-stat="{esc(key)}"{exact}>{esc(_num(value, digits))}</td></tr>'
        )
    return f'<table class="stats">{"".join(rows)}</table>'


def bars(words: Sequence[str], scores: Sequence[float], caption: str) -> str:
    """A horizontal bar per word in reading order, green toward the target, red against."""
    if not words:
        return ""
    scale = max(abs(s) for s in scores) or 1.0
    rows = []
    for word, score in zip(words, scores, strict=True):
        color = css_rgb(POSITIVE_RGB if score > 0 else NEGATIVE_RGB)
        width = 50 * abs(score) / scale  # percent of the track, from the middle
        side = "left: 50%" if score > 0 else f"left: {50 - width:.2f}%"
        rows.append(
            f'<div class="bar-row"><span class="bar-word" title="{esc(word)}">{esc(word)}</span>'
            f'<span class="bar-track"><span class="bar" data-bar="{float(score)!r}" '
            f'style="{side}; width: {width:.2f}%; background: {color}"></span></span>'
            f'<span class="bar-value">{score:+.3g}</span></div>'
        )
    return f'<figure class="bars"><figcaption>{esc(caption)}</figcaption>{"".join(rows)}</figure>'


def probability_bars(labels: Sequence[str], probabilities: Sequence[float], chosen: int) -> str:
    """Each class's probability as a bar; the predicted class in bold."""
    rows = []
    for i, (label, p) in enumerate(zip(labels, probabilities, strict=True)):
        strong = ' class="chosen"' if i == chosen else ""
        rows.append(
            f'<div class="prob-row"{strong}><span class="bar-word">{esc(label)}</span>'
            f'<span class="prob-track"><span class="prob" style="width: {100 * p:.1f}%">'
            f'</span></span><span class="bar-value">{p:.3f}</span></div>'
        )
    return f'<div class="probs">{"".join(rows)}</div>'


def completeness(
    output: float, baseline_output: float, delta: float, n_evals: int, error: float | None
) -> list[tuple[str, str, float | int | None, str]]:
    """The rows of :func:`stats_table` that say how complete an explanation is."""
    return [
        ("F(x)", "output", output, ".6g"),
        ("F(x′), at the baseline", "baseline_output", baseline_output, ".6g"),
        ("F(x) − F(x′)", "change", output - baseline_output, ".6g"),
        ("completeness delta", "delta", delta, ".2e"),
        ("gradient evaluations", "n_evals", n_evals, "d"),
        ("estimated error", "error_estimate", error, ".2e"),
    ]


def explanation_panel(e: Any, title: str = "") -> str:
    """One text explanation: the colored text, the numbers, probabilities and bar chart."""
    setup = (
        f"baseline {e.baseline} · {e.method}"
        + (f", {e.n_steps} steps" if e.n_steps else "")
        + (f", noise {e.options.noise.n_samples} samples" if e.options.noise else "")
    )
    head = f"<h3>{esc(title)}</h3>" if title else ""
    numbers = completeness(e.output, e.baseline_output, e.delta, e.n_evals, e.error_estimate)
    return (
        f'<article class="panel explanation">{head}'
        f'<p class="setup">{esc(setup)}</p>{e.to_html()}'
        f'<div class="numbers">{stats_table(numbers)}'
        f"{probability_bars(e.labels, e.probabilities, e.predicted)}</div>"
        f"{bars(e.words, e.word_scores, f'word scores for {e.target_label} ({e.score})')}"
        "</article>"
    )


def comparison_table(a: Any, b: Any, names: tuple[str, str] = ("A", "B")) -> str:
    """Word scores of two explanations of the same words side by side, with B − A."""
    if a.words != b.words:
        return (
            '<p class="note">The two explanations split the text into different words '
            "(different tokenizers), so their scores are not compared word by word.</p>"
        )
    rows = []
    for word, x, y in zip(a.words, a.word_scores, b.word_scores, strict=True):
        rows.append(
            f"<tr><td>{esc(word)}</td><td class='num'>{x:+.4g}</td><td class='num'>{y:+.4g}</td>"
            f"<td class='num'>{y - x:+.4g}</td></tr>"
        )
    return (
        f'<table class="grid comparison"><thead><tr><th>word</th><th class="num">{esc(names[0])}'
        f'</th><th class="num">{esc(names[1])}</th><th class="num">{esc(names[1])} − '
        f"{esc(names[0])}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def row_text_html(text: str, words: Sequence[str], scores: Sequence[float]) -> str:
    """A run row's text with its words highlighted, as the HTML export does: each word is
    found in order in the text (words are exact substrings), the gaps stay plain text."""
    scale = max((abs(s) for s in scores), default=0.0)
    parts, cursor = [], 0
    for word, score in zip(words, scores, strict=True):
        at = text.find(word, cursor)
        if at < 0:  # not a substring (a tokenizer that normalises): shown after the rest
            parts.append(" " + word_html(word, score, scale))
            continue
        parts.append(esc(text[cursor:at]) + word_html(word, score, scale))
        cursor = at + len(word)
    parts.append(esc(text[cursor:]))
    return f'<div class="integrad-text highlighted">{"".join(parts)}</div>'


def token_strip(tokens: Sequence[str], scores: Sequence[float]) -> str:
    """Every token the model saw, colored by its score (special tokens included)."""
    scale = max((abs(s) for s in scores), default=0.0)
    spans = []
    for token, score in zip(tokens, scores, strict=True):
        rgb = signed_rgb(score, scale)
        spans.append(
            f'<span class="token" data-score="{float(score)!r}" title="{esc(token)}: '
            f'{score:+.3g}" style="background: {css_rgb(rgb)}; color: {text_color_on(rgb)}">'
            f"{esc(display_token(token))}</span>"
        )
    return f'<div class="tokens">{"".join(spans)}</div>'


def generation_panel(e: Any) -> str:
    """A generation: the generated tokens as buttons, the context colored by the chosen
    token's scores (or the whole output's), and the heatmap of every score."""
    buttons = [
        '<button type="button" class="gen-token selected" data-row="all">whole output</button>'
    ]
    views = [_context(e, "all", e.sequence_scores, len(e.context_tokens), None)]
    for j, token in enumerate(e.generated_tokens):
        buttons.append(
            f'<button type="button" class="gen-token" data-row="{j}" title="{esc(token)}">'
            f"{esc(display_token(token))}</button>"
        )
        views.append(_context(e, str(j), e.scores[j], e.n_visible[j], j))
    largest = max((abs(d) for d in e.delta), default=0.0)
    numbers = [
        ("log-probability of the output" if e.score == "log_prob" else f"{e.score} of the output",
         "output", e.sequence_output, ".6g"),
        ("at the baseline", "baseline_output", e.sequence_baseline_output, ".6g"),
        ("F(x) − F(x′)", "change", e.sequence_output - e.sequence_baseline_output, ".6g"),
        ("largest |delta| of a token", "delta", largest, ".2e"),
        ("gradient evaluations", "n_evals", e.n_evals, "d"),
        ("estimated error", "error_estimate", e.error_estimate, ".2e"),
    ]  # fmt: skip
    verb = "forced" if e.forced else "generated"
    return (
        f'<article class="panel generation"><p class="setup">{esc(verb)}: '
        f'<span class="generated-text">{esc(e.generated_text)}</span> · baseline '
        f"{esc(e.baseline)} · {esc(e.method)}</p>"
        f'<div class="gen-tokens"><span class="hint">Click a {esc(verb)} token to color the '
        f"context by its scores:</span> {''.join(buttons)}</div>"
        f"{''.join(views)}{legend('the chosen token')}"
        f'<div class="numbers">{stats_table(numbers)}</div>'
        f"<details open><summary>Heatmap of every score</summary>{e.to_html()}</details>"
        "</article>"
    )


def _context(e: Any, row: str, scores: Sequence[float], visible: int, j: int | None) -> str:
    """The context tokens a generated token saw, colored by its row of scores (the whole
    output sees them all)."""
    seen = [scores[c] for c in range(visible)]
    scale = max((abs(s) for s in seen), default=0.0)
    spans = []
    for c, token in enumerate(e.context_tokens[:visible]):  # what the token could see
        shown = esc(display_token(token))
        rgb = signed_rgb(scores[c], scale)
        kind = " special" if e.special[c] else ""
        side = " output-side" if c >= e.n_prompt else ""
        spans.append(
            f'<span class="token{kind}{side}" data-score="{float(scores[c])!r}" '
            f'title="{esc(token)}: {scores[c]:+.4g}" style="background: {css_rgb(rgb)}; '
            f'color: {text_color_on(rgb)}">{shown}</span>'
        )
    if j is None:
        change = e.sequence_output - e.sequence_baseline_output
        label = "the whole output"
    else:
        change = e.output[j] - e.baseline_output[j]
        label = f"token {j + 1}, {display_token(e.generated_tokens[j])}"
        spans.append(
            f'<span class="token chosen-token">→ {esc(display_token(e.generated_tokens[j]))}</span>'
        )
    hidden = "" if row == "all" else " hidden"
    return (
        f'<div class="gen-context" data-row="{esc(row)}" data-change="{float(change)!r}"'
        f'{hidden}><p class="hint">Context scores for {esc(label)}: they add up to '
        f"{change:.4g} = F(x) − F(x′)</p>{''.join(spans)}</div>"
    )
