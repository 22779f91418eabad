"""``integrad.summarize``: what a model relies on across a whole run.

Streams over a run's shards batch by batch, reading only the columns it needs, and folds
each batch into pandas group-bys: per class (the predicted label by default), each word's
summed score and count; the spread of |delta| and of the error estimates; the failed rows
counted by message. Words are lower-cased, so "Great" and "great" count together. A word
is ranked for a class only when it occurs at least ``min_count`` times there, so that one
rare word with a large score does not top the list.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrad.errors import InputError

#: A word must occur this often under a class to be ranked for it.
MIN_COUNT = 3
#: Words per class and direction.
TOP = 10
#: ``by`` names -> the column grouped by.
GROUPS = {"predicted_label": "predicted_label", "predicted": "predicted_label",
          "label": "predicted_label", "target_label": "target_label",
          "target": "target_label"}  # fmt: skip
#: Partial group-by tables folded together once this many have piled up.
FOLD_EVERY = 32


@dataclass(frozen=True)
class WordStat:
    """A word's mean score under a class, over ``count`` occurrences."""

    word: str
    mean: float
    count: int


@dataclass(frozen=True)
class ClassSummary:
    """One class: its rows, and the words that push toward and against it most."""

    label: str
    rows: int
    toward: tuple[WordStat, ...]
    against: tuple[WordStat, ...]


@dataclass(frozen=True)
class Spread:
    """A distribution of per-row numbers (the values are kept for plots)."""

    count: int
    median: float | None
    p90: float | None
    p99: float | None
    largest: float | None
    values: Any = field(default=None, repr=False, compare=False)  # numpy array


@dataclass(frozen=True)
class Failure:
    """Rows that failed with one message, and the first few of their ids."""

    message: str
    rows: int
    ids: tuple[str, ...]


@dataclass(frozen=True)
class RunSummary:
    """A run's corpus summary: see :func:`summarize`.

    Attributes:
        path: The run folder.
        rows, ok, failed: Rows in the finished shards, and how many were explained or failed.
        by: The column the classes come from (``predicted_label`` or ``target_label``).
        min_count: Occurrences a word needs to be ranked.
        classes: One :class:`ClassSummary` per class, by label.
        deltas: |delta| (the completeness error) over explained rows.
        error_estimates: Adaptive integration's error estimates (rows of fixed rules have none).
        failures: Failed rows grouped by message, most frequent first.
        model: The model named in the manifest.
    """

    path: str
    rows: int
    ok: int
    failed: int
    by: str
    min_count: int
    classes: tuple[ClassSummary, ...]
    deltas: Spread
    error_estimates: Spread
    failures: tuple[Failure, ...]
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the spreads without their values)."""
        data = dataclasses.asdict(self)
        for name in ("deltas", "error_estimates"):
            data[name].pop("values")
        return data

    def to_html(self) -> str:
        """An HTML fragment (every string from the run escaped; inline styles only)."""
        from integrad.render.run_summary import summary_html

        return summary_html(self)

    def save_html(self, path: str | Path, title: str = "integrad summary") -> None:
        """:meth:`to_html` as a complete page."""
        from integrad.render.html import page

        Path(path).write_text(page(self.to_html(), title=title), encoding="utf-8")

    def plot(self) -> Any:
        """A matplotlib Figure: top words per class, and the spreads of |delta| and error."""
        from integrad.render.run_summary import summary_figure

        return summary_figure(self)

    def __rich__(self) -> Any:
        from integrad.render.run_summary import summary_table

        return summary_table(self)


def summarize(
    out: str | Path, *, by: str = "predicted_label", min_count: int = MIN_COUNT, top: int = TOP
) -> RunSummary:
    """Summarises a run folder written by :func:`integrad.explain_dataset`.

    Args:
        out: The run folder.
        by: Group by ``"predicted_label"`` (default; ``"label"`` or ``"predicted"`` too) or
            ``"target_label"`` (``"target"``).
        min_count: Occurrences a word needs under a class to be ranked there.
        top: Words shown per class and direction.

    Returns:
        A :class:`RunSummary` (``to_html``, ``save_html``, ``plot``, and a rich table).

    Example:
        >>> s = integrad.summarize("runs/tweets")  # doctest: +SKIP
        >>> s.classes[0].toward[0].word  # doctest: +SKIP
        'love'
    """
    import json

    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from integrad.runs.shards import finished

    folder = Path(out).expanduser()
    if by not in GROUPS:
        raise InputError(f"unknown by={by!r}; group by one of {', '.join(GROUPS)}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise InputError(f"min_count must be a positive integer, got {min_count!r}")
    shards = list(finished(folder).values()) if folder.is_dir() else []
    if not shards:
        raise InputError(
            f"{str(folder)!r} holds no finished shards (part-NNNNN.parquet); give a folder "
            "written by integrad explain --dataset ... --out DIR"
        )
    column = GROUPS[by]
    wanted = ("id", column, "words", "word_scores", "status", "error", "delta", "error_estimate")
    words: list[Any] = []
    class_rows: list[Any] = []
    deltas, estimates, failures = [], [], []
    rows = 0
    for shard in shards:
        file = pq.ParquetFile(shard)
        columns = [c for c in dict.fromkeys(wanted) if c in file.schema_arrow.names]
        for batch in file.iter_batches(columns=columns, batch_size=4096):
            frame = batch.to_pandas()
            rows += len(frame)
            ok = frame[frame["status"] == "ok"] if "status" in frame else frame
            if {column, "words", "word_scores"} <= set(ok):
                words.append(_word_sums(ok, column))
                class_rows.append(ok[column].value_counts())
                if len(words) >= FOLD_EVERY:
                    words = [pd.concat(words).groupby(level=[0, 1]).sum()]
            if "delta" in ok:  # one per row, or one per generated token (generation runs)
                delta = ok["delta"].dropna()
                delta = delta.explode().dropna() if delta.dtype == object else delta
                deltas.append(delta.abs().to_numpy(dtype=float))
            if "error_estimate" in ok:
                estimates.append(ok["error_estimate"].dropna().to_numpy(dtype=float))
            if "status" in frame:
                failed = frame[frame["status"] == "error"]
                if len(failed):
                    failures.append(failed[["id", "error"]].fillna({"error": ""}))
    table = pd.concat(words).groupby(level=[0, 1]).sum() if words else None
    counts = pd.concat(class_rows).groupby(level=0).sum() if class_rows else pd.Series()
    failed_rows = pd.concat(failures) if failures else pd.DataFrame(columns=["id", "error"])
    manifest = {}
    with contextlib.suppress(OSError, ValueError):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return RunSummary(
        path=str(folder),
        rows=rows,
        ok=rows - len(failed_rows),
        failed=len(failed_rows),
        by=column,
        min_count=min_count,
        classes=_classes(table, counts, min_count, top),
        deltas=_spread(deltas, np),
        error_estimates=_spread(estimates, np),
        failures=_failures(failed_rows),
        model=str(manifest.get("model", "")) if isinstance(manifest, dict) else "",
    )


def _word_sums(frame: Any, column: str) -> Any:
    """Summed score and count per (class, lower-cased word) in one batch."""
    pairs = frame[[column, "words", "word_scores"]].dropna()
    pairs = pairs.explode(["words", "word_scores"]).dropna()
    pairs["words"] = pairs["words"].astype(str).str.lower()
    pairs["word_scores"] = pairs["word_scores"].astype(float)
    return pairs.groupby([column, "words"])["word_scores"].agg(["sum", "count"])


def _classes(table: Any, counts: Any, min_count: int, top: int) -> tuple[ClassSummary, ...]:
    if table is None or not len(table):
        return ()
    table = table.assign(mean=table["sum"] / table["count"])
    out = []
    for label, group in table.groupby(level=0, sort=True):
        ranked = group.droplevel(0)
        ranked = ranked[ranked["count"] >= min_count]
        # Ties broken by count, then the word, so the order never depends on the shards.
        toward = ranked[ranked["mean"] > 0].reset_index()
        toward = toward.sort_values(["mean", "count", "words"], ascending=[False, False, True])
        against = ranked[ranked["mean"] < 0].reset_index()
        against = against.sort_values(["mean", "count", "words"], ascending=[True, False, True])
        out.append(
            ClassSummary(
                label=str(label),
                rows=int(counts.get(label, 0)),
                toward=_stats(toward.head(top)),
                against=_stats(against.head(top)),
            )
        )
    return tuple(out)


def _stats(frame: Any) -> tuple[WordStat, ...]:
    return tuple(
        WordStat(str(w), float(m), int(c))
        for w, m, c in zip(frame["words"], frame["mean"], frame["count"], strict=True)
    )


def _spread(chunks: list[Any], np: Any) -> Spread:
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    if not values.size:
        return Spread(0, None, None, None, None, values)
    p50, p90, p99 = (float(np.percentile(values, q)) for q in (50, 90, 99))
    return Spread(int(values.size), p50, p90, p99, float(values.max()), values)


def _failures(failed: Any, examples: int = 5) -> tuple[Failure, ...]:
    if not len(failed):
        return ()
    groups = failed.groupby("error", sort=False)["id"]
    counted = groups.size().sort_values(ascending=False, kind="stable")
    return tuple(
        Failure(str(message), int(n), tuple(groups.get_group(message).head(examples)))
        for message, n in counted.items()
    )
