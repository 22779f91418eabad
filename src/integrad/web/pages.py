"""The web view's pages: a shared frame, and the forms of the explain, compare and
generation pages. Results arrive as fragments (see :mod:`integrad.web.views`) that the
page's script puts in place; the run pages are in :mod:`integrad.web.run_pages`.

Pages load one stylesheet and one script from the package (``/static/``) and nothing else:
no CDN, no web fonts, so they work with no network. Every string goes through ``esc``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from integrad.render.html import esc
from integrad.web.models import ModelSlot

#: The pages in the navigation bar: path, title, and which model kind they need.
NAV = (
    ("/", "Explain", "classifier"),
    ("/compare", "Compare", "classifier"),
    ("/generate", "Generate", "generator"),
    ("/runs", "Runs", None),
)
EXAMPLE = "I love you, but I also kind of dislike you"
GENERATION_EXAMPLE = "The capital of France is"


def frame(title: str, body: str, slots: dict[str, ModelSlot], page: str) -> str:
    """A complete page around ``body`` (already escaped)."""
    kinds = {s.kind for s in slots.values()}
    links = "".join(
        f'<a href="{path}"{" aria-current=page" if path == page else ""}>{esc(name)}</a>'
        for path, name, kind in NAV
        if kind is None or kind in kinds
    )
    names = " · ".join(esc(s.name) for s in slots.values())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · integrad</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/style.css">'
        '<script src="/static/app.js" defer></script></head>'
        f'<body data-page="{esc(page)}"><header><a class="brand" href="/">integrad</a>'
        f'<nav>{links}</nav><span class="model" title="models">{names}</span></header>'
        f"<main>{body}</main></body></html>\n"
    )


def _select(name: str, options: Sequence[tuple[str, str]], chosen: str = "") -> str:
    items = "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(t)}</option>'
        for v, t in options
    )
    return f'<select name="{esc(name)}">{items}</select>'


def _field(label: str, control: str, css: str = "") -> str:
    return f'<label class="field {css}"><span>{esc(label)}</span>{control}</label>'


def _integration(method: str = "gausslegendre", suffix: str = "") -> str:
    """Method (fixed steps or tolerance), steps, tolerance and noise controls."""
    from integrad.core.rules import list_rules

    methods = [(m, f"fixed steps: {m}") for m in list_rules()]
    methods.insert(0, ("adaptive", "tolerance: adaptive"))
    return (
        _field("Method", _select("method", methods, method))
        + _field(
            "Steps",
            '<input type="number" name="n_steps" value="50" min="1" max="1000" step="1">',
            "steps",
        )
        + _field(
            "Tolerance",
            '<input type="number" name="tol" value="0.001" min="0" step="any">',
            "tol",
        )
        + _field(
            "Noise samples",
            '<input type="number" name="noise" value="0" min="0" max="64" step="1" '
            'title="average over this many noisy copies (0: off)">',
        )
    )


def _classifier_controls(slots: dict[str, ModelSlot], baseline: str = "neutral") -> str:
    from integrad.baselines import list_baselines

    classifiers = [s for s in slots.values() if s.kind == "classifier"]
    parts = []
    if len(classifiers) > 1:
        # Each model's labels ride on its option, so the page can offer the right targets.
        options = "".join(
            f'<option value="{esc(s.key)}" data-labels="{esc(json.dumps(s.labels()))}">'
            f"{esc(s.name)}</option>"
            for s in classifiers
        )
        parts.append(_field("Model", f'<select name="model">{options}</select>'))
    labels = classifiers[0].labels() if classifiers else ()
    targets = [("", "the predicted class"), *((label, label) for label in labels)]
    parts.append(_field("Target", _select("target", targets)))
    baselines = [(b, b) for b in list_baselines("text")]
    parts.append(_field("Baseline", _select("baseline", baselines, baseline)))
    return "".join(parts) + _integration()


def _text_box(value: str, label: str = "Text") -> str:
    return (
        f'<label class="text-label" for="text">{esc(label)}</label>'
        f'<textarea id="text" name="text" rows="3" maxlength="5000" required>{esc(value)}'
        "</textarea>"
    )


def explain_page(slots: dict[str, ModelSlot]) -> str:
    """Text box, controls, the result, and a pinned result beside it for comparing."""
    body = (
        '<h1>Explain a prediction</h1><p class="lead">Which words pushed the model toward '
        "the target class (green) and against it (red). Change the target, baseline or "
        "integration and explain again; <b>Pin</b> a result to keep it beside the next one.</p>"
        '<form id="explain-form" class="controls" data-endpoint="/api/explain">'
        f'{_text_box(EXAMPLE)}<div class="row">{_classifier_controls(slots)}</div>'
        '<div class="actions"><button type="submit">Explain</button>'
        '<span class="status" role="status"></span></div></form>'
        '<div class="error" role="alert" hidden></div>'
        '<div class="results"><section id="pinned" hidden></section>'
        '<section id="result"></section></div>'
    )
    return frame("Explain", body, slots, "/")


def compare_page(slots: dict[str, ModelSlot]) -> str:
    """One text, two sets of settings (A and B), two explanations side by side."""
    sides = "".join(
        f'<fieldset class="side" data-side="{side}"><legend>{side.upper()}</legend>'
        f"{_classifier_controls(slots, baseline)}</fieldset>"
        for side, baseline in (("a", "neutral"), ("b", "zero"))
    )
    body = (
        '<h1>Compare two explanations</h1><p class="lead">The same text explained two ways: '
        "two baselines, two targets, two integrations or two models.</p>"
        '<form id="compare-form" class="controls" data-endpoint="/api/compare">'
        f'{_text_box(EXAMPLE)}<div class="sides">{sides}</div>'
        '<div class="actions"><button type="submit">Compare</button>'
        '<span class="status" role="status"></span></div></form>'
        '<div class="error" role="alert" hidden></div><section id="result"></section>'
    )
    return frame("Compare", body, slots, "/compare")


def generate_page(slots: dict[str, ModelSlot]) -> str:
    """A prompt box for language models: what each generated token owes to its context."""
    generators = [s for s in slots.values() if s.kind == "generator"]
    model = ""
    if len(generators) > 1:
        model = _field("Model", _select("model", [(s.key, s.name) for s in generators]))
    baselines = [
        ("", "default (pad, unk or eos)"),
        *((b, b) for b in ("pad", "unk", "eos", "zero")),
    ]
    body = (
        '<h1>Explain a generation</h1><p class="lead">The model continues the prompt; '
        "each generated token is traced to the tokens before it. Click a generated token "
        "to color the context by its scores.</p>"
        '<form id="generate-form" class="controls" data-endpoint="/api/generate">'
        f'{_text_box(GENERATION_EXAMPLE, "Prompt")}<div class="row">{model}'
        + _field(
            "New tokens",
            '<input type="number" name="max_new_tokens" value="8" min="1" max="64" step="1">',
        )
        + _field(
            "Forced continuation",
            '<input type="text" name="target" placeholder="(optional) explain this instead">',
        )
        + _field("Baseline", _select("baseline", baselines))
        + _integration("adaptive")
        + '</div><div class="actions"><button type="submit">Generate and explain</button>'
        '<span class="status" role="status"></span></div></form>'
        '<div class="error" role="alert" hidden></div><section id="result"></section>'
    )
    return frame("Generate", body, slots, "/generate")


def message_page(title: str, message: str, slots: dict[str, ModelSlot], page: str = "") -> str:
    """A page that says one thing (not found, no runs folder, ...)."""
    body = f"<h1>{esc(title)}</h1><p>{esc(message)}</p>"
    return frame(title, body, slots, page)
