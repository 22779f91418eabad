"""The pages of dataset runs: the list of runs, one run's table of rows (filled and paged
by the page's script from ``/api/runs/<name>/rows``), one row's explanation, and the run's
corpus summary. Every string from a run (texts, words, labels, errors, the manifest) goes
through ``esc``; names in links are percent-encoded."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from integrad.render.html import esc, legend
from integrad.web.models import ModelSlot
from integrad.web.pages import frame
from integrad.web.runs import SORTS, Run, overview
from integrad.web.views import bars, completeness, row_text_html, stats_table, token_strip

#: Manifest entries shown first, by the names a manifest may use for them.
_MANIFEST_FIRST = ("model", "model_name", "fingerprint", "input", "input_path", "rows",
                   "row_count", "integrad_version", "version")  # fmt: skip


def run_url(run: Run, tail: str = "") -> str:
    return f"/runs/{quote(run.name, safe='')}{tail}"


def _pick(data: dict[str, Any], *names: str) -> Any:
    return next((data[n] for n in names if data.get(n) not in (None, "")), "")


def _input(manifest: dict[str, Any]) -> Any:
    """The input's path (the runner records a dict: kind, path, size, ...), or its kind."""
    found = _pick(manifest, "input", "input_path")
    if isinstance(found, dict):
        return found.get("path") or found.get("kind") or ""
    return found


def _settings(options: Any) -> str:
    """A run's integration settings in a few words (those it set)."""
    if not isinstance(options, dict):
        return ""
    return ", ".join(f"{k} {v}" for k, v in options.items() if v not in (None, "", {}, []))


def runs_page(runs: dict[str, Run], roots: list[str], slots: dict[str, ModelSlot]) -> str:
    """Every run the server was given, with its size and model."""
    if not roots:
        body = (
            "<h1>Runs</h1><p>No runs folder was given. Write a run with "
            "<code>integrad explain --dataset data.csv --out runs/first</code>, then start "
            "the server with <code>integrad serve --runs runs</code>.</p>"
        )
        return frame("Runs", body, slots, "/runs")
    rows = []
    for run in runs.values():
        manifest = run.manifest()
        rows.append(
            f'<tr><td><a href="{esc(run_url(run))}">{esc(run.name)}</a></td>'
            f"<td class='num'>{run.count()}</td><td class='num'>{len(run.shards())}</td>"
            f"<td>{esc(_pick(manifest, 'model', 'model_name'))}</td>"
            f"<td>{esc(_settings(manifest.get('options')))}</td>"
            f"<td>{esc(_input(manifest))}</td></tr>"
        )
    table = (
        '<table class="grid runs"><thead><tr><th>run</th><th class="num">rows</th>'
        '<th class="num">shards</th><th>model</th><th>settings</th><th>input</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No runs found yet in these folders.</p>"
    )
    folders = ", ".join(f"<code>{esc(r)}</code>" for r in roots)
    body = f"<h1>Runs</h1><p class='lead'>Dataset runs in {folders}.</p>{table}"
    return frame("Runs", body, slots, "/runs")


def _manifest_html(manifest: dict[str, Any]) -> str:
    if not manifest:
        return "<p class='hint'>This run has no manifest.json.</p>"
    keys = [k for k in _MANIFEST_FIRST if k in manifest]
    keys += [k for k in manifest if k not in keys]
    items = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(v if isinstance(v, str) else json.dumps(v))}</dd>"
        for k, v in ((k, manifest[k]) for k in keys)
    )
    return f"<details class='manifest'><summary>Manifest</summary><dl>{items}</dl></details>"


def run_page(run: Run, slots: dict[str, ModelSlot]) -> str:
    """One run: filters, a sortable table paged on the server, and a link to its summary."""
    info = overview(run)
    statuses = " · ".join(f"{esc(k)} {v}" for k, v in sorted(info["status"].items()))
    labels = "".join(
        f'<option value="{esc(k)}">{esc(k)} ({v})</option>' for k, v in info["labels"].items()
    )
    headers = (("row", "#"), ("id", "id"), ("status", "status"), ("text", "text"),
               ("predicted_label", "predicted"), ("probability", "p"), ("abs_delta", "|delta|"),
               ("error_estimate", "est. error"), ("n_evals", "evals"))  # fmt: skip
    numeric = ("probability", "abs_delta", "error_estimate", "n_evals")
    head = "".join(
        f'<th{" class=num" if key in numeric else ""}><button type="button" class="sort" '
        f'data-sort="{key}">{esc(title)}</button></th>'
        if key in SORTS
        else f"<th>{esc(title)}</th>"
        for key, title in headers
    )
    body = (
        f'<p class="crumbs"><a href="/runs">Runs</a> /</p><h1>{esc(run.name)}</h1>'
        f'<p class="lead">{info["rows"]} rows in {info["shards"]} shards · {statuses} · '
        f'<a href="{esc(run_url(run, "/summary"))}">corpus summary</a></p>'
        f"{_manifest_html(run.manifest())}"
        f'<form id="rows-form" class="controls filters" data-endpoint="'
        f'{esc("/api" + run_url(run, "/rows"))}" data-run="{esc(run_url(run))}">'
        '<label class="field"><span>Status</span><select name="status"><option value="">any'
        '</option><option value="ok">ok</option><option value="error">error</option>'
        '</select></label><label class="field"><span>Predicted</span><select name="label">'
        f'<option value="">any</option>{labels}</select></label>'
        '<label class="field"><span>Has the word</span><input type="text" name="word"></label>'
        '<label class="field"><span>|delta| at least</span><input type="number" '
        'name="min_abs_delta" min="0" step="any"></label>'
        '<label class="field"><span>Est. error at least</span><input type="number" '
        'name="min_error" min="0" step="any"></label>'
        '<input type="hidden" name="sort" value="row">'
        '<input type="hidden" name="descending" value="">'
        '<div class="actions"><button type="submit">Filter</button>'
        '<span class="status" role="status"></span></div></form>'
        '<div class="error" role="alert" hidden></div>'
        f'<table class="grid rows"><thead><tr>{head}</tr></thead><tbody></tbody></table>'
        '<div class="pager"><button type="button" class="prev">← previous</button>'
        '<span class="page-info"></span><button type="button" class="next">next →</button>'
        "</div>"
    )
    return frame(run.name, body, slots, "/runs")


def row_page(run: Run, row: dict[str, Any], total: int, slots: dict[str, ModelSlot]) -> str:
    """One row of a run: its text colored by word, its numbers, bar chart and tokens."""
    n = row["row"]
    nav = []
    if n > 0:
        nav.append(f'<a href="{esc(run_url(run, f"/rows/{n - 1}"))}">← row {n - 1}</a>')
    nav.append(f'<a href="{esc(run_url(run))}">all rows</a>')
    if n + 1 < total:
        nav.append(f'<a href="{esc(run_url(run, f"/rows/{n + 1}"))}">row {n + 1} →</a>')
    head = (
        f'<p class="crumbs"><a href="/runs">Runs</a> / <a href="{esc(run_url(run))}">'
        f"{esc(run.name)}</a> /</p><h1>Row {n} <small>id {esc(row.get('id'))}</small></h1>"
        f'<p class="rownav">{" · ".join(nav)}</p>'
    )
    if row.get("status") != "ok":
        body = (
            f'{head}<div class="panel"><p class="failed">This row could not be explained: '
            f"{esc(row.get('error') or 'no message')}</p>"
            f'<div class="integrad-text plain">{esc(row.get("text") or "")}</div></div>'
        )
        return frame(f"{run.name} row {n}", body, slots, "/runs")
    words, scores = list(row.get("words") or []), list(row.get("word_scores") or [])
    tokens, token_scores = list(row.get("tokens") or []), list(row.get("token_scores") or [])
    target = row.get("target_label") or "the target"
    rest = sum(token_scores) - sum(scores)
    probability = row.get("probability")
    p = "" if probability is None else f" (p = {probability:.3f})"
    numbers = []
    if row.get("output") is not None and row.get("baseline_output") is not None:
        numbers = completeness(row["output"], row["baseline_output"], row.get("delta") or 0.0,
                               row.get("n_evals") or 0, row.get("error_estimate"))  # fmt: skip
        numbers.insert(3, ("special tokens, not words", "special", rest, ".4g"))
    truncated = (
        '<p class="note">The text was longer than the model reads; its end was cut off and '
        "is not explained.</p>"
        if row.get("truncated")
        else ""
    )
    body = (
        f'{head}<article class="panel explanation"><p class="setup"><b>'
        f"{esc(row.get('predicted_label'))}</b>{esc(p)} · explaining <b>{esc(target)}</b></p>"
        f"{row_text_html(row.get('text') or '', words, scores)}{legend(target)}{truncated}"
        f'<div class="numbers">{stats_table(numbers)}</div>'
        f"{bars(words, scores, f'word scores for {target}')}"
        f"<details><summary>Tokens ({len(tokens)})</summary>{token_strip(tokens, token_scores)}"
        "</details></article>"
    )
    return frame(f"{run.name} row {n}", body, slots, "/runs")


def summary_page(run: Run, fragment: str, slots: dict[str, ModelSlot]) -> str:
    """The run's corpus summary (``fragment`` is already escaped HTML)."""
    body = (
        f'<p class="crumbs"><a href="/runs">Runs</a> / <a href="{esc(run_url(run))}">'
        f"{esc(run.name)}</a> /</p><h1>Summary of {esc(run.name)}</h1>{fragment}"
    )
    return frame(f"{run.name} summary", body, slots, "/runs")
