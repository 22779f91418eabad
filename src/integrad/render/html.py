"""HTML building blocks. Every string from a model, tokenizer or user goes through ``esc``."""

from __future__ import annotations

import html

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


def page(fragment: str, title: str = "integrad") -> str:
    """A complete, self-contained HTML page around an already escaped fragment."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title></head>"
        f'<body style="{BASE_CSS} margin: 2rem auto; padding: 0 1rem">{fragment}</body></html>\n'
    )
