"""HTML building blocks. Every string from a model, tokenizer or user goes through ``esc``."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb

BASE_CSS = (
    "font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; line-height: 1.6; "
    "color: #111; max-width: 60rem;"
)


def esc(value: object) -> str:
    """HTML-escape any value (quotes included), so it can only ever render as text."""
    return html.escape(str(value), quote=True)


def legend(target_label: object = "the target") -> str:
    """A small legend: green pushes toward the target, red against it."""
    pos, neg, label = css_rgb(POSITIVE_RGB), css_rgb(NEGATIVE_RGB), esc(target_label)
    swatch = "display:inline-block;width:0.9em;height:0.9em;border-radius:2px;margin:0 0.3em"
    return (
        f'<div style="font-size:0.85em;color:#444">'
        f'<span style="{swatch};background:{pos}"></span>toward {label}'
        f'<span style="{swatch};background:{neg};margin-left:1em"></span>against {label}'
        "</div>"
    )


def batch_fragment(
    kind: str,
    target_labels: list[str] | None,
    blocks: Iterable[str],
    total: int,
    shown: int,
    noun: str,
    head: str = "",
) -> str:
    """A batch result's fragment: a legend naming the target when every input shares one,
    ``head``, one block per shown input, and how many of ``total`` were left out."""
    names = set(target_labels or [])
    parts = [
        f'<div class="integrad-{kind}">',
        head,
        legend(names.pop() if len(names) == 1 else "the target"),
    ]
    parts.extend(blocks)
    if total > shown:
        parts.append(f"<p>{total - shown} more of {total} {noun} not shown</p>")
    return "".join([*parts, "</div>"])


def page(fragment: str, title: str = "integrad") -> str:
    """A complete, self-contained HTML page around an already escaped fragment."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title></head>"
        f'<body style="{BASE_CSS} margin: 2rem auto; padding: 0 1rem">{fragment}</body></html>\n'
    )


def attribution_html(result: Any) -> str:
    """A table of an engine result's completeness per example: F(x), F(x'), delta, evaluations."""
    cell = "padding:2px 10px;border-bottom:1px solid #eee;text-align:right"
    rows = [
        '<table class="integrad-attribution" style="border-collapse:collapse;font-size:0.9em">'
        f'<tr><th style="{cell}">example</th><th style="{cell}">F(x)</th>'
        f'<th style="{cell}">F(x′)</th><th style="{cell}">delta</th>'
        f'<th style="{cell}">evaluations</th></tr>'
    ]
    flat = [v.reshape(v.shape[0], -1) for v in (result.output, result.baseline_output)]
    delta = result.delta.reshape(result.delta.shape[0], -1)
    for i in range(delta.shape[0]):
        values = [", ".join(f"{float(v):.4g}" for v in t[i]) for t in (*flat, delta)]
        rows.append(
            f'<tr><td style="{cell}">{i}</td>'
            + "".join(f'<td style="{cell}">{esc(v)}</td>' for v in values)
            + f'<td style="{cell}">{int(result.n_evals[i])}</td></tr>'
        )
    rows.append("</table>")
    return "".join(rows)
