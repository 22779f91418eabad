"""Dataset runs on disk, read for the web view: found by name, filtered, sorted and paged.

A run is a folder written by ``integrad explain --dataset`` (either engine): shards
``part-NNNNN.parquet`` and a ``manifest.json``. Rows are numbered 0, 1, ... across the
shards in name order; that number is a row's address (``/runs/<name>/rows/<n>``).

A query never loads a whole run: it streams the shards batch by batch, reading only the
columns its filter and sort need, and keeps the matching row numbers with their sort key;
then it reads the page's rows from their shards. The sorted row numbers of the last few
queries are cached, keyed by the shards' names, sizes and modification times, so paging
through a large run reads it once. Runs are only ever looked up by name among the folders
the server was given; a name is never joined to a path.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrad.errors import InputError

SHARD = re.compile(r"part-\d+\.parquet")
#: Columns a row listing shows.
LISTED = ("id", "text", "status", "error", "predicted_label", "target_label", "probability",
          "delta", "error_estimate", "n_evals", "truncated")  # fmt: skip
#: Sort keys: a column, or ``abs_delta`` (|delta|); ``row`` is the row number.
SORTS = ("row", "id", "status", "predicted_label", "target_label", "probability", "delta",
         "abs_delta", "error_estimate", "n_evals")  # fmt: skip
#: Most rows in one page.
MAX_PAGE = 500
#: Characters of a text shown in a listing (the row page shows all of it).
PREVIEW_CHARS = 240


class RunNotFound(InputError):
    """No run, or no row, by that name or number."""


@dataclass(frozen=True)
class Run:
    """A run folder the server may read."""

    name: str
    path: Path

    def shards(self) -> list[Path]:
        """Finished shards in order (temporary, unfinished files never match the name)."""
        return sorted(p for p in self.path.iterdir() if SHARD.fullmatch(p.name) and p.is_file())

    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """What changes when a shard is added or rewritten: keys the caches."""
        out = []
        for p in self.shards():
            s = p.stat()
            out.append((p.name, s.st_size, s.st_mtime_ns))
        return tuple(out)

    def manifest(self) -> dict[str, Any]:
        """The manifest as written, or {} when there is none (or it cannot be read)."""
        try:
            data = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def count(self) -> int:
        """Rows in the finished shards (from the Parquet footers, no data read)."""
        return sum(_counts(self.path, self.stamp()))


def is_run(folder: Path) -> bool:
    """Whether ``folder`` holds a run (a manifest or at least one shard)."""
    return (folder / "manifest.json").is_file() or any(
        SHARD.fullmatch(p.name) for p in folder.iterdir()
    )


def find_runs(roots: Sequence[str | os.PathLike]) -> dict[str, Run]:
    """Every run in ``roots``: a root that is a run itself, or the runs directly inside it.
    Names are the folders' names, made unique with ``-2``, ``-3``."""
    runs: dict[str, Run] = {}
    for root in roots:
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            continue
        found = [root] if is_run(root) else sorted(p for p in root.iterdir() if p.is_dir())
        for folder in found:
            if folder is not root and not is_run(folder):
                continue
            name, n = folder.name, 2
            while name in runs:
                name, n = f"{folder.name}-{n}", n + 1
            runs[name] = Run(name, folder)
    return runs


def check_roots(roots: Sequence[str | os.PathLike]) -> None:
    """Refuse runs folders that do not exist, before the server starts."""
    for root in roots:
        if not Path(root).expanduser().is_dir():
            raise InputError(
                f"runs folder {os.fspath(root)!r} does not exist; give a folder written by "
                "integrad explain --dataset ... --out DIR, or a folder of such folders"
            )


@functools.lru_cache(maxsize=64)
def _counts(path: Path, stamp: tuple[tuple[str, int, int], ...]) -> tuple[int, ...]:
    import pyarrow.parquet as pq

    return tuple(pq.ParquetFile(path / name).metadata.num_rows for name, _, _ in stamp)


@dataclass(frozen=True)
class Query:
    """Which rows of a run to list, in which order.

    Attributes:
        status: ``"ok"``, ``"error"`` or None for both.
        label: Only rows predicted as this label.
        word: Only rows with this word among their words (case is ignored).
        min_abs_delta: Only rows whose |delta| is at least this.
        min_error: Only rows whose error estimate is at least this.
        sort: One of :data:`SORTS`.
        descending: Largest first.
        offset: Rows to skip.
        limit: Rows to return (at most :data:`MAX_PAGE`).
    """

    status: str | None = None
    label: str | None = None
    word: str | None = None
    min_abs_delta: float | None = None
    min_error: float | None = None
    sort: str = "row"
    descending: bool = False
    offset: int = 0
    limit: int = 50

    @classmethod
    def from_params(cls, params: Any) -> Query:
        """A query from URL parameters, checked (unknown names are refused)."""
        names = {f for f in cls.__dataclass_fields__}
        unknown = [k for k in params if k not in names]
        if unknown:
            raise InputError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; a row listing takes "
                f"{', '.join(sorted(names))}"
            )
        values: dict[str, Any] = {}
        for name in ("status", "label", "word"):
            if params.get(name):
                values[name] = str(params[name])
        for name in ("min_abs_delta", "min_error"):
            if params.get(name):
                values[name] = _number(params[name], name, float)
        for name in ("offset", "limit"):
            if params.get(name):
                values[name] = _number(params[name], name, int)
        if params.get("sort"):
            values["sort"] = params["sort"]
        values["descending"] = str(params.get("descending", "")).lower() in ("1", "true", "yes")
        query = cls(**values)
        query.check()
        return query

    def check(self) -> None:
        if self.status not in (None, "ok", "error"):
            raise InputError(f"status must be 'ok' or 'error', got {self.status!r}")
        if self.sort not in SORTS:
            raise InputError(f"unknown sort {self.sort!r}; sort by one of {', '.join(SORTS)}")
        if self.offset < 0 or not 1 <= self.limit <= MAX_PAGE:
            raise InputError(f"offset must be >= 0 and limit from 1 to {MAX_PAGE}")

    def key(self) -> tuple[Any, ...]:
        """The part of the query that decides which rows match, and their order."""
        word = self.word.lower() if self.word else None
        filters = (self.status, self.label, word, self.min_abs_delta, self.min_error)
        return (*filters, self.sort, self.descending)


def _number(value: Any, name: str, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None


def list_rows(run: Run, query: Query) -> tuple[int, list[dict[str, Any]]]:
    """How many rows match ``query``, and the rows of its page (with their ``row`` number;
    texts cut to :data:`PREVIEW_CHARS`)."""
    order = _matching(run.path, run.stamp(), query.key())
    total = len(order)
    page = order[query.offset : query.offset + query.limit]
    rows = read_rows(run, [int(i) for i in page], LISTED)
    for row in rows:
        text = row.get("text") or ""
        row["text"] = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    return total, rows


def read_rows(run: Run, numbers: Sequence[int], columns: Sequence[str] | None = None) -> list[dict]:
    """The rows with these numbers, in that order, each with its ``row`` number."""
    import pyarrow.parquet as pq

    stamp = run.stamp()
    counts = _counts(run.path, stamp)
    starts = [0]
    for c in counts:
        starts.append(starts[-1] + c)
    by_shard: dict[int, list[int]] = {}
    for n in numbers:
        if not 0 <= n < starts[-1]:
            raise RunNotFound(
                f"run {run.name!r} has rows 0 to {starts[-1] - 1}; there is no row {n}"
            )
        shard = next(s for s in range(len(counts)) if n < starts[s + 1])
        by_shard.setdefault(shard, []).append(n)
    found: dict[int, dict[str, Any]] = {}
    for shard, wanted in by_shard.items():
        file = pq.ParquetFile(run.path / stamp[shard][0])
        names = [c for c in (columns or file.schema_arrow.names) if c in file.schema_arrow.names]
        table = file.read(columns=names).take([n - starts[shard] for n in wanted])
        for n, row in zip(wanted, table.to_pylist(), strict=True):
            found[n] = {"row": n, **row}
    return [found[n] for n in numbers]


@functools.lru_cache(maxsize=16)
def _matching(path: Path, stamp: tuple[tuple[str, int, int], ...], key: tuple[Any, ...]) -> Any:
    """The numbers of the rows matching ``key`` in its order (rows without a value last);
    a numpy array.

    Streams the shards batch by batch, reading only the columns the filter and sort need.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    status, label, word, min_abs_delta, min_error, sort, descending = key
    needed = {"status"} if status else set()
    needed |= {"predicted_label"} if label is not None else set()
    needed |= {"words"} if word else set()
    needed |= {"delta"} if min_abs_delta is not None or sort == "abs_delta" else set()
    needed |= {"error_estimate"} if min_error is not None else set()
    sort_column = {"row": None, "abs_delta": "delta"}.get(sort, sort)
    if sort_column:
        needed.add(sort_column)
    numbers, keys = [], []
    start = 0
    for name, _, _ in stamp:
        file = pq.ParquetFile(path / name)
        columns = [c for c in needed if c in file.schema_arrow.names]
        missing = needed - set(columns)
        for batch in file.iter_batches(columns=columns or None, batch_size=4096):
            n = batch.num_rows
            mask = pa.array(np.ones(n, dtype=bool))
            if missing:  # a filter on a column this run lacks matches nothing
                mask = pa.array(np.zeros(n, dtype=bool))
            else:
                mask = _filter(batch, mask, status, label, word, min_abs_delta, min_error)
            index = np.arange(start, start + n)[np.asarray(mask.to_numpy(zero_copy_only=False))]
            numbers.append(index)
            if sort_column and not missing:
                column = batch.column(sort_column).filter(mask)
                keys.append(pc.abs(column) if sort == "abs_delta" else column)
            start += n
    found = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)
    if not sort_column or not keys:
        return found[::-1] if descending else found
    key_values = pa.concat_arrays([_chunk(k) for k in keys])
    valid = key_values.is_valid().to_numpy(zero_copy_only=False)
    table = pa.table({"key": key_values.filter(valid), "row": found[valid]})
    direction = "descending" if descending else "ascending"
    order = pc.sort_indices(table, [("key", direction), ("row", "ascending")])
    return np.concatenate([found[valid][order.to_numpy()], found[~valid]])  # no value: last


def _chunk(array: Any) -> Any:
    import pyarrow as pa

    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _filter(batch: Any, mask: Any, *filters: Any) -> Any:
    """``mask`` and the filters of a query's key on one batch (missing values never match)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    status, label, word, min_abs_delta, min_error = filters

    def both(m: Any, extra: Any) -> Any:
        return pc.and_kleene(m, pc.fill_null(extra, False))

    if status:
        mask = both(mask, pc.equal(batch.column("status"), status))
    if label is not None:
        mask = both(mask, pc.equal(batch.column("predicted_label"), label))
    if min_abs_delta is not None:
        mask = both(mask, pc.greater_equal(pc.abs(batch.column("delta")), min_abs_delta))
    if min_error is not None:
        mask = both(mask, pc.greater_equal(batch.column("error_estimate"), min_error))
    if word:
        words = batch.column("words")
        flat = pc.utf8_lower(pc.list_flatten(words))
        parents = pc.list_parent_indices(words).filter(pc.equal(flat, word))
        hit = np.zeros(batch.num_rows, dtype=bool)
        hit[parents.to_numpy()] = True
        mask = both(mask, pa.array(hit))
    return mask


def overview(run: Run) -> dict[str, Any]:
    """Rows, statuses and predicted labels with their counts (for the filters)."""
    return _overview(run.path, run.stamp())


@functools.lru_cache(maxsize=16)
def _overview(path: Path, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    statuses: dict[str, int] = {}
    labels: dict[str, int] = {}
    for name, _, _ in stamp:
        file = pq.ParquetFile(path / name)
        columns = [c for c in ("status", "predicted_label") if c in file.schema_arrow.names]
        for batch in file.iter_batches(columns=columns, batch_size=8192):
            for column, counts in (("status", statuses), ("predicted_label", labels)):
                if column not in columns:
                    continue
                for item in batch.column(column).value_counts().to_pylist():
                    if item["values"] is not None:
                        counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return {"rows": sum(_counts(path, stamp)), "shards": len(stamp), "status": statuses,
            "labels": dict(sorted(labels.items()))}  # fmt: skip


def run_file(run: Run, relative: str) -> Path:
    """A file inside the run's folder; anything that resolves outside it is refused."""
    target = (run.path / relative).resolve()
    if not target.is_relative_to(run.path) or not target.is_file():
        raise RunNotFound(f"run {run.name!r} has no file {relative!r}")
    return target
