"""Views of a run's corpus summary (:class:`integrad.runs.summary.RunSummary`): an HTML
fragment, a rich terminal table and a matplotlib figure. Every string that comes from a run
(words, labels, error messages, ids, the model's name) is escaped in the HTML."""

from __future__ import annotations

from typing import Any

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb
from integrad.render.html import esc

_TABLE = "border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 0.3rem 0 1rem"
_CELL = "border-bottom: 1px solid #eee; padding: 0.25rem 0.5rem; text-align: left"
_NUM = _CELL.replace("left", "right") + "; font-variant-numeric: tabular-nums"
_HINT = "color: #666; font-size: 0.85rem; margin: 0.2rem 0"
SPREAD_COLUMNS = ("rows", "median", "90%", "99%", "largest")


def summary_html(s: Any) -> str:
    """The summary as an HTML fragment with inline styles (it also takes the web view's
    classes: ``summary``, ``columns``, ``grid``, ``chip``, ``hint``)."""
    model = f" of <code>{esc(s.model)}</code>" if s.model else ""
    parts = [
        '<div class="summary integrad-summary">',
        f"<p>{s.rows:,} rows{model}: {s.ok:,} explained, {s.failed:,} failed.</p>",
    ]
    group = "predicted as" if s.by == "predicted_label" else "with the target"
    for c in s.classes:
        scale = max([abs(w.mean) for w in (*c.toward, *c.against)] or [1.0])
        parts.append(
            f"<h3>{'Predicted' if s.by == 'predicted_label' else 'Target'} {esc(c.label)} "
            f"<span class='hint' style='{_HINT}'>({c.rows:,} rows)</span></h3>"
            "<div class='columns' style='display: grid; grid-template-columns: 1fr 1fr; "
            "gap: 1.2rem'>"
            + _words(c.toward, f"toward {c.label}", POSITIVE_RGB, scale)
            + _words(c.against, f"against {c.label}", NEGATIVE_RGB, scale)
            + "</div>"
        )
    if not s.classes:
        parts.append(f"<p class='hint' style='{_HINT}'>No explained rows with words.</p>")
    parts.append(
        f"<p class='hint' style='{_HINT}'>Words ranked by their mean score over the rows "
        f"{group} each class (green: toward it, red: against it); a word is ranked when it "
        f"occurs at least {s.min_count} times there. Words are lower-cased.</p>"
    )
    parts.append(_spread("|delta| (completeness error)", s.deltas))
    parts.append(
        _spread(
            "Estimated error (adaptive integration)",
            s.error_estimates,
            "none: a fixed rule was used; adaptive integration (tol=, --tol) estimates each "
            "row's error",
        )
    )
    parts.append(_failures(s.failures))
    parts.append("</div>")
    return "".join(parts)


def _words(stats: Any, title: str, rgb: tuple[int, int, int], scale: float) -> str:
    if not stats:
        return (
            f"<div><h4>{esc(title)}</h4><p class='hint' style='{_HINT}'>no word occurs often "
            "enough</p></div>"
        )
    color = css_rgb(rgb)
    rows = "".join(
        f"<tr><td style='{_CELL}'><span class='chip' style='border-bottom: 3px solid {color}; "
        f"padding: 0 0.2em'>{esc(w.word)}</span></td>"
        f"<td style='{_NUM}'>{w.mean:+.3g}</td><td style='{_NUM}'>{w.count:,}</td>"
        f"<td style='{_CELL}; width: 35%'><div style='background: {color}; height: 0.7em; "
        f"width: {100 * abs(w.mean) / scale:.1f}%; border-radius: 2px'></div></td></tr>"
        for w in stats
    )
    head = "".join(
        f"<th style='{_CELL}; background: #f6f6f6'>{h}</th>"
        for h in ("word", "mean score", "count", "")
    )
    return (
        f"<div><h4 style='margin: 0.3rem 0'>{esc(title)}</h4><table class='grid' "
        f"style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _spread(title: str, spread: Any, empty: str = "no values") -> str:
    if not spread.count:
        return f"<h3>{esc(title)}</h3><p class='hint' style='{_HINT}'>{esc(empty)}</p>"
    head = "".join(f"<th style='{_NUM}; background: #f6f6f6'>{h}</th>" for h in SPREAD_COLUMNS)
    values = (spread.median, spread.p90, spread.p99, spread.largest)
    cells = f"<td style='{_NUM}'>{spread.count:,}</td>" + "".join(
        f"<td style='{_NUM}'>{v:.2e}</td>" for v in values
    )
    return (
        f"<h3>{esc(title)}</h3><table class='grid' style='{_TABLE}'><thead><tr>{head}</tr>"
        f"</thead><tbody><tr>{cells}</tr></tbody></table>"
    )


def _failures(failures: Any) -> str:
    if not failures:
        return "<h3>Rows that failed</h3><p>None.</p>"
    head = "".join(
        f"<th style='{_CELL}; background: #f6f6f6'>{h}</th>" for h in ("error", "rows", "ids")
    )
    rows = "".join(
        f"<tr><td style='{_CELL}'>{esc(f.message) or '(no message)'}</td>"
        f"<td style='{_NUM}'>{f.rows:,}</td>"
        f"<td style='{_CELL}'>{esc(', '.join(f.ids))}{', ...' if f.rows > len(f.ids) else ''}"
        "</td></tr>"
        for f in failures
    )
    return (
        f"<h3>Rows that failed</h3><table class='grid' style='{_TABLE}'><thead><tr>{head}</tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def summary_table(s: Any) -> Any:
    """The summary for the terminal: a rich renderable (tables per class, spreads, failures)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [
        Text(f"{s.rows:,} rows: {s.ok:,} explained, {s.failed:,} failed", style="bold")
    ]
    for c in s.classes:
        table = Table(title=f"{c.label} ({c.rows:,} rows)", title_justify="left")
        for name, style in (("toward", "green"), ("mean", "green"), ("n", None),
                            ("against", "red"), ("mean", "red"), ("n", None)):  # fmt: skip
            table.add_column(name, style=style, justify="left" if name[0] in "ta" else "right")
        for i in range(max(len(c.toward), len(c.against))):
            cells: list[str] = []
            for stats in (c.toward, c.against):
                w = stats[i] if i < len(stats) else None
                cells += ["", "", ""] if w is None else [w.word, f"{w.mean:+.3g}", str(w.count)]
            table.add_row(*cells)
        parts.append(table)
    parts.append(Text(f"words ranked when they occur at least {s.min_count} times", style="dim"))
    spreads = Table(title="spreads", title_justify="left")
    spreads.add_column("")
    for name in SPREAD_COLUMNS:
        spreads.add_column(name, justify="right")
    for name, sp in (("|delta|", s.deltas), ("error estimate", s.error_estimates)):
        values = (sp.median, sp.p90, sp.p99, sp.largest)
        spreads.add_row(name, str(sp.count), *("-" if v is None else f"{v:.2e}" for v in values))
    parts.append(spreads)
    if s.failures:
        failed = Table(title="rows that failed", title_justify="left")
        failed.add_column("error")
        failed.add_column("rows", justify="right")
        failed.add_column("ids")
        for f in s.failures:
            failed.add_row(Text(f.message), str(f.rows), Text(", ".join(f.ids)))
        parts.append(failed)
    return Group(*parts)


def summary_figure(s: Any) -> Any:
    """Bar charts of each class's top words (toward: green, against: red) above histograms
    of |delta| and of the error estimates (log scale)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    n = max(len(s.classes), 1)
    columns = min(n, 3)
    class_rows = -(-n // columns)
    fig = plt.figure(figsize=(4.2 * columns + 1, 3.6 * class_rows + 2.6), layout="constrained")
    grid = fig.add_gridspec(class_rows + 1, columns, height_ratios=[3.6] * class_rows + [2.2])
    green = tuple(v / 255 for v in POSITIVE_RGB)
    red = tuple(v / 255 for v in NEGATIVE_RGB)
    for i, c in enumerate(s.classes):
        ax = fig.add_subplot(grid[i // columns, i % columns])
        stats = list(c.toward) + list(reversed(c.against))
        y = np.arange(len(stats))[::-1]
        ax.barh(y, [w.mean for w in stats], color=[green if w.mean > 0 else red for w in stats])
        ax.set_yticks(y, [f"{w.word} ({w.count})" for w in stats], fontsize=8)
        ax.axvline(0, color="#444", linewidth=0.8)
        ax.set_title(f"{c.label}: {c.rows:,} rows", fontsize=10)
        ax.set_xlabel("mean score", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    bottom = grid[class_rows, :].subgridspec(1, 2)
    for j, (title, spread) in enumerate(
        (("|delta| (completeness error)", s.deltas), ("estimated error", s.error_estimates))
    ):
        ax = fig.add_subplot(bottom[0, j])
        values = spread.values if spread.values is not None else np.zeros(0)
        values = values[values > 0]
        if values.size:
            bins = np.logspace(np.log10(values.min()), np.log10(values.max()) + 1e-9, 30)
            ax.hist(values, bins=bins, color="#4b5563")
            ax.set_xscale("log")
        else:
            ax.set_axis_off()
            empty = "no values" if j == 0 else "none: a fixed rule was used\n(adaptive: tol=)"
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{title}: {spread.count:,} rows", fontsize=10)
        ax.set_ylabel("rows", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"integrad summary: {s.rows:,} rows, {s.failed:,} failed", fontsize=11)
    return fig
