"""A run's input, read as a stream of row batches whatever form it came in.

:func:`open_source` takes a CSV / TSV / JSON Lines / Parquet file, a folder of such files, a
pandas DataFrame, a Hugging Face ``datasets.Dataset`` (duck-typed: anything with
``column_names`` and ``iter(batch_size=...)``) or an iterable of strings, checks the columns
asked for, and returns a :class:`Source`. Files are read with ``pyarrow.dataset`` batch by
batch, so memory does not grow with the number of rows. A CSV's text column is read as bytes
and decoded per row, so one row of undecodable bytes becomes one failed row, not a failed run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrad.errors import InputError

#: Rows per batch read from the input (independent of the shard size).
READ_BATCH = 1024
#: File name endings -> pyarrow dataset format.
FORMATS = {
    ".csv": "csv", ".csv.gz": "csv", ".tsv": "tsv", ".jsonl": "json", ".ndjson": "json",
    ".json": "json", ".jsonl.gz": "json", ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip


@dataclass(frozen=True)
class Chunk:
    """A batch of input rows: their ids (strings) and the values of the wanted column."""

    ids: list[str]
    values: list[Any]  # str, bytes (undecoded CSV text), None, or anything an iterable gave


@dataclass(frozen=True)
class Source:
    """A readable input.

    Attributes:
        description: What the input is, for the manifest (kind, path, size, ...): two runs
            over inputs with different descriptions are different runs.
        columns: The input's columns (``("text",)`` for an iterable of strings).
        rows: Number of rows when known before reading (None for an iterable).
        read: Returns a fresh iterator of :class:`Chunk` from the first row.
    """

    description: dict[str, Any]
    columns: tuple[str, ...]
    rows: int | None
    read: Callable[[], Iterator[Chunk]] = field(repr=False)


def open_source(data: Any, column: str, id_column: str | None = None) -> Source:
    """The input ``data`` as a :class:`Source` of ``column`` (and ``id_column`` for ids).

    Raises:
        InputError: A path that does not exist or has an unknown format, or a column the
            input lacks (the message lists the columns it has).

    Example:
        >>> src = open_source(["good", "bad"], "text")
        >>> [c.values for c in src.read()]
        [['good', 'bad']]
    """
    if isinstance(data, (str, os.PathLike)):
        return _file_source(Path(data).expanduser(), column, id_column)
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        return _frame_source(data, column, id_column)
    if hasattr(data, "column_names") and callable(getattr(data, "iter", None)):
        return _hf_source(data, column, id_column)
    if isinstance(data, Iterable) and not isinstance(data, (bytes, dict)):
        if id_column is not None:
            raise InputError(
                "id_column was given, but the data is an iterable of strings, which has no "
                "columns; give a DataFrame or a file to take ids from a column"
            )
        return _iterable_source(data)
    raise InputError(
        f"cannot read a dataset from a {type(data).__name__}: give a CSV, JSON Lines or Parquet "
        "path (or a folder of them), a pandas DataFrame, a datasets.Dataset, or a list of strings"
    )


def check_columns(available: Sequence[str], wanted: Sequence[str | None], where: str) -> None:
    """Refuse a column the input lacks, listing the ones it has."""
    for name in wanted:
        if name is not None and name not in available:
            raise InputError(
                f"{where} has no column {name!r}; its columns are: "
                f"{', '.join(map(repr, available))}. Choose one with --text-column / "
                "text_column= (and --id-column / id_column=)"
            )


def _format(path: Path) -> str:
    name = path.name.lower()
    for ending in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(ending):
            return FORMATS[ending]
    raise InputError(
        f"{path}: unknown file type; give a .csv, .tsv, .jsonl (JSON Lines) or .parquet file"
    )


def _file_source(path: Path, column: str, id_column: str | None) -> Source:
    import pyarrow.dataset as ds

    known = files_of(path)
    kind = _format(known[0])
    schema_format = _dataset_format(kind, None)
    columns = tuple(ds.dataset([str(p) for p in known], format=schema_format).schema.names)
    check_columns(columns, [column, id_column], f"the dataset {str(path)!r}")
    wanted = [c for c in dict.fromkeys([column, id_column]) if c is not None]
    fmt = _dataset_format(kind, column)
    dataset = ds.dataset([str(p) for p in known], format=fmt)
    stats = [p.stat() for p in known]
    description = {
        "kind": kind,
        "path": str(path.resolve()),
        "files": len(known),
        "bytes": sum(s.st_size for s in stats),
        "modified_ns": max(s.st_mtime_ns for s in stats),
    }

    def read() -> Iterator[Chunk]:
        start = 0
        for batch in dataset.to_batches(columns=wanted, batch_size=READ_BATCH, use_threads=False):
            values = batch.column(column).to_pylist()
            given = batch.column(id_column).to_pylist() if id_column else None
            ids = _ids(given, start, len(values))
            start += len(values)
            if values:
                yield Chunk(ids, values)

    return Source(description, columns, dataset.count_rows(), read)


def files_of(path: Path) -> list[Path]:
    """The input files: ``path`` itself, or a folder's files of one format in name order."""
    if not path.exists():
        raise InputError(f"the dataset {str(path)!r} does not exist")
    if not path.is_dir():
        _format(path)
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    known = [p for p in files if _known(p)]
    kinds = {_format(p) for p in known}
    if len(kinds) != 1:
        found = ", ".join(sorted(kinds)) or "none"
        raise InputError(
            f"the folder {str(path)!r} must hold files of one format (.parquet, .csv, "
            f".jsonl); found: {found}"
        )
    return known


def _known(path: Path) -> bool:
    try:
        _format(path)
    except InputError:
        return False
    return True


def _dataset_format(kind: str, text_column: str | None) -> Any:
    """The pyarrow dataset format; a CSV's text column is read as bytes (decoded per row)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    if kind == "parquet":
        return ds.ParquetFileFormat()
    if kind == "json":
        return ds.JsonFileFormat()
    parse = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",", newlines_in_values=True)
    types = {} if text_column is None else {text_column: pa.binary()}
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return ds.CsvFileFormat(parse_options=parse, convert_options=convert)


def _ids(values: list[Any] | None, start: int, n: int) -> list[str]:
    """Ids as strings: the id column's values, or row numbers (from 0) without one."""
    if values is None:
        return [str(i) for i in range(start, start + n)]
    return [str(start + i) if v is None else str(v) for i, v in enumerate(values)]


def _frame_source(frame: Any, column: str, id_column: str | None) -> Source:
    columns = tuple(str(c) for c in frame.columns)
    check_columns(columns, [column, id_column], "the DataFrame")

    def read() -> Iterator[Chunk]:
        for lo in range(0, len(frame), READ_BATCH):
            part = frame.iloc[lo : lo + READ_BATCH]
            values = [None if _missing(v) else v for v in part[column].tolist()]
            ids = _ids(part[id_column].tolist() if id_column else None, lo, len(values))
            yield Chunk(ids, values)

    return Source({"kind": "pandas.DataFrame", "rows": len(frame)}, columns, len(frame), read)


def _missing(value: Any) -> bool:
    return isinstance(value, float) and value != value  # NaN: pandas' missing value


def _hf_source(data: Any, column: str, id_column: str | None) -> Source:
    columns = tuple(data.column_names)
    check_columns(columns, [column, id_column], "the dataset")
    wanted = [c for c in dict.fromkeys([column, id_column]) if c is not None]
    selected = data.select_columns(wanted) if hasattr(data, "select_columns") else data

    def read() -> Iterator[Chunk]:
        start = 0
        for batch in selected.iter(batch_size=READ_BATCH):
            values = list(batch[column])
            ids = _ids(list(batch[id_column]) if id_column else None, start, len(values))
            start += len(values)
            yield Chunk(ids, values)

    name = getattr(getattr(data, "info", None), "dataset_name", None)
    description = {"kind": "datasets.Dataset", "name": name, "rows": len(data)}
    return Source(description, columns, len(data), read)


def _iterable_source(data: Iterable[Any]) -> Source:
    rows = len(data) if isinstance(data, Sequence) else None
    used = []  # a one-shot iterator can be read once only

    def read() -> Iterator[Chunk]:
        if not isinstance(data, Sequence):
            if used:
                raise InputError("the iterable of texts was already consumed; give a list")
            used.append(True)
        items = iter(data)
        start = 0
        while batch := list(itertools.islice(items, READ_BATCH)):
            yield Chunk(_ids(None, start, len(batch)), batch)
            start += len(batch)

    return Source({"kind": "iterable", "rows": rows}, ("text",), rows, read)
