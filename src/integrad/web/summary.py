"""A run's corpus summary as an HTML fragment, for the run's summary page.

When the library has :func:`integrad.summarize` (the dataset runner's summaries), its
report is shown. Until then :func:`simple_summary` computes a plain one here, in this one
place, streaming over the shards with pandas group-bys: per predicted class the words that
push toward and against it most (mean score, with a minimum count), the spread of deltas
and error estimates, and the rows that failed and why.
"""

from __future__ import annotations

from typing import Any

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb
from integrad.render.html import esc
from integrad.web.runs import Run

#: A word must occur at least this often under a class to be ranked for it.
MIN_COUNT = 3
#: Words shown per class and direction.
TOP = 10


def summary_html(run: Run) -> str:
    """The library's summary of the run when it has one, else :func:`simple_summary`."""
    summarize = _library_summarize()
    if summarize is None:
        return simple_summary(run)
    result = summarize(run.path)
    to_html = getattr(result, "to_html", None)
    return to_html() if callable(to_html) else f"<pre>{esc(result)}</pre>"


def _library_summarize() -> Any:
    import integrad

    try:
        return getattr(integrad, "summarize", None)
    except ImportError:
        return None


def simple_summary(run: Run, min_count: int = MIN_COUNT, top: int = TOP) -> str:
    """Top words per predicted class, deltas and error estimates, failures (see the module)."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    parts, deltas, errors, failures = [], [], [], []
    wanted = ("predicted_label", "words", "word_scores", "status", "error", "delta",
              "error_estimate")  # fmt: skip
    for shard in run.shards():
        file = pq.ParquetFile(shard)
        columns = [c for c in wanted if c in file.schema_arrow.names]
        for batch in file.iter_batches(columns=columns, batch_size=4096):
            frame = batch.to_pandas()
            if {"words", "word_scores", "predicted_label"} <= set(frame):
                words = frame[["predicted_label", "words", "word_scores"]].dropna()
                words = words.explode(["words", "word_scores"]).dropna()
                words["words"] = words["words"].str.lower()
                words["word_scores"] = words["word_scores"].astype(float)
                parts.append(
                    words.groupby(["predicted_label", "words"])["word_scores"].agg(["sum", "count"])
                )
            if "delta" in frame:
                deltas.append(frame["delta"].dropna().abs().to_numpy(dtype=float))
            if "error_estimate" in frame:
                errors.append(frame["error_estimate"].dropna().to_numpy(dtype=float))
            if "status" in frame and "error" in frame:
                failed = frame.loc[frame["status"] == "error", "error"].fillna("")
                failures.append(failed.value_counts())
    html = ['<div class="summary">']
    if parts:
        table = pd.concat(parts).groupby(level=[0, 1]).sum()
        table["mean"] = table["sum"] / table["count"]
        for label, group in table.groupby(level=0):
            group = group.droplevel(0)
            ranked = group[group["count"] >= min_count]
            html.append(f"<h3>Predicted {esc(label)}</h3><div class='columns'>")
            toward = ranked.sort_values("mean", ascending=False).head(top)
            against = ranked.sort_values("mean").head(top)
            html.append(_words(toward[toward["mean"] > 0], f"toward {label}", POSITIVE_RGB))
            html.append(_words(against[against["mean"] < 0], f"against {label}", NEGATIVE_RGB))
            html.append("</div>")
        html.append(
            f"<p class='hint'>Words ranked by their mean score over the rows predicted as each "
            f"class; a word is ranked when it occurs at least {min_count} times.</p>"
        )
    html.append(_spread("|delta| (completeness error)", deltas, np))
    html.append(_spread("estimated error (adaptive integration)", errors, np))
    counts = pd.concat(failures).groupby(level=0).sum() if failures else None
    if counts is not None and len(counts):
        rows = "".join(
            f"<tr><td>{esc(message) or '(no message)'}</td><td>{int(n)}</td></tr>"
            for message, n in counts.sort_values(ascending=False).items()
        )
        html.append(
            "<h3>Rows that failed</h3><table class='grid'><thead><tr><th>error</th>"
            f"<th>rows</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        html.append("<h3>Rows that failed</h3><p>None.</p>")
    html.append("</div>")
    return "".join(html)


def _words(frame: Any, title: str, rgb: tuple[int, int, int]) -> str:
    if frame.empty:
        return f"<div><h4>{esc(title)}</h4><p class='hint'>no word occurs often enough</p></div>"
    rows = "".join(
        f"<tr><td><span class='chip' style='border-color: {css_rgb(rgb)}'>{esc(word)}</span></td>"
        f"<td>{row['mean']:+.3g}</td><td>{int(row['count'])}</td></tr>"
        for word, row in frame.iterrows()
    )
    return (
        f"<div><h4>{esc(title)}</h4><table class='grid'><thead><tr><th>word</th>"
        f"<th>mean score</th><th>count</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _spread(title: str, chunks: list[Any], np: Any) -> str:
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    if not values.size:
        return f"<h3>{esc(title)}</h3><p class='hint'>no values</p>"
    points = {"median": 50, "90%": 90, "99%": 99, "largest": 100}
    cells = "".join(f"<td>{np.percentile(values, q):.2e}</td>" for q in points.values())
    head = "".join(f"<th>{esc(name)}</th>" for name in points)
    return (
        f"<h3>{esc(title)}</h3><table class='grid'><thead><tr><th>rows</th>{head}</tr></thead>"
        f"<tbody><tr><td>{values.size}</td>{cells}</tr></tbody></table>"
    )
