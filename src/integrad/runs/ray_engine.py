"""The ray engine: the same run on Ray Data, for data or GPUs beyond one process.

The input is read with Ray Data (``read_csv`` / ``read_json`` / ``read_parquet``, or
``from_pandas`` / ``from_arrow`` / ``from_items``), numbered by zipping it with
``ray.data.range``, and explained with ``map_batches`` and a callable class, so each actor
loads the model once (with ``num_gpus`` per actor when asked). Rows come back in input order
(``preserve_order``) and this process cuts them into the same shards as the local engine and
writes them, and the manifest, the same way: resuming, summaries and the web view work on
either engine's output. Shards that are already finished are filtered out before any model
runs.

``ray.init()`` is the user's to call (a cluster address works); when Ray is not initialised,
a local instance is started (and shut down afterwards).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from integrad.errors import InputError
from integrad.runs.local import check_resolved, record
from integrad.runs.shards import finished, shard_name, shard_rows, write_shard

ROW = "__integrad_row"
INSTALL_HINT = "the ray engine needs Ray Data: pip install 'integrad[ray]'"


class ShardExplainer:
    """A Ray actor's callable: loads the model once, explains batches of numbered rows."""

    def __init__(self, rows_class: str, model: Any, options: dict[str, Any], columns: Any) -> None:
        from integrad.runs.runner import _rows_class

        self.rows = _rows_class(rows_class)(model, **options)
        self.column, self.id_column = columns

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        numbers = batch.column(ROW).to_pylist()
        # NaN is how pandas marks a missing text: the same failed row as the local engine's.
        values = [None if v != v else v for v in batch.column(self.column).to_pylist()]
        given = batch.column(self.id_column).to_pylist() if self.id_column else None
        ids = [str(n) if given is None or given[i] is None else str(given[i])
               for i, n in enumerate(numbers)]  # fmt: skip
        table = self.rows.explain(ids, values)
        table = table.append_column(ROW, pa.array(numbers, pa.int64()))
        if self.rows.resolved is not None:  # the settings used, for the manifest
            meta = {b"resolved": __import__("json").dumps(self.rows.resolved).encode()}
            table = table.replace_schema_metadata(meta)
        return table


def run_ray(
    data: Any,
    source: Any,
    rows: Any,
    folder: Path,
    shard_size: int,
    manifest: dict[str, Any],
    quiet: bool,
    engine_options: dict[str, Any],
    model: Any,
    options: dict[str, Any],
    rows_class: str,
) -> int:
    """Explains every shard not yet finished with Ray Data; returns the number of input rows."""
    try:
        import ray
    except ImportError as err:
        raise InputError(INSTALL_HINT) from err
    started = not ray.is_initialized()
    if started:
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        return _run(ray, data, source, rows, folder, shard_size, manifest, quiet,
                    engine_options, model, options, rows_class)  # fmt: skip
    finally:
        if started:
            ray.shutdown()


def _run(ray: Any, data: Any, source: Any, rows: Any, folder: Path, shard_size: int,
         manifest: dict[str, Any], quiet: bool, engine_options: dict[str, Any], model: Any,
         options: dict[str, Any], rows_class: str) -> int:  # fmt: skip
    import json

    import numpy as np
    import pyarrow as pa

    from integrad.runs.progress import progress_bar

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    column, id_column = manifest["text_column"], manifest["id_column"]
    dataset = _read(ray, data, source, column, id_column)
    total = source.rows if source.rows is not None else dataset.count()
    with warnings.catch_warnings():  # zip is exact here: preserve_order is on
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = dataset.zip(ray.data.range(total).rename_columns({"id": ROW}))
    expected = {i: min(shard_size, total - i * shard_size) for i in range(-(-total // shard_size))}
    done = {i for i, p in finished(folder).items() if shard_rows(p) == expected.get(i)}
    skip = np.array(sorted(done), dtype=np.int64)

    def unfinished(batch: Any) -> Any:
        keep = ~np.isin(batch[ROW] // shard_size, skip)
        return {k: v[keep] for k, v in batch.items()}

    if len(skip):
        dataset = dataset.map_batches(unfinished, batch_format="numpy")
    dataset = _blocks(dataset, shard_size, len(expected))
    explained = dataset.map_batches(
        ShardExplainer,
        batch_size=shard_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=_actors(ray, engine_options)),
        num_gpus=engine_options.get("num_gpus") or 0,
        fn_constructor_kwargs={
            "rows_class": rows_class,
            "model": model,
            "options": options,
            "columns": (column, id_column),
        },
    )
    pending: list[Any] = []
    current, have = None, 0
    with progress_bar(total, sum(expected[i] for i in done), quiet) as advance:
        for batch in explained.iter_batches(batch_size=None, batch_format="pyarrow"):
            resolved = (batch.schema.metadata or {}).get(b"resolved")
            if resolved and "resolved_options" not in manifest:
                rows.resolved = json.loads(resolved)
            numbers = batch.column(ROW).to_numpy()
            shards = numbers // shard_size
            for index in np.unique(shards):  # ascending: rows arrive in order
                part = batch.filter(pa.array(shards == index)).drop_columns([ROW])
                if current is not None and index != current:
                    raise RuntimeError("rows arrived out of order from Ray Data")
                current = int(index)
                pending.append(part)
                have += len(part)
                advance(len(part))
                if have == expected[current]:
                    table = pa.concat_tables(pending).cast(rows.schema())
                    check_resolved(folder, manifest, rows)
                    write_shard(folder, current, table)
                    record(folder, manifest, rows, shard_name(current))
                    pending, current, have = [], None, 0
    if pending:
        raise RuntimeError(f"shard {current} got {have} of {expected[current]} rows from Ray")
    return total


def _blocks(dataset: Any, shard_size: int, shards: int) -> Any:
    """Blocks of at most a shard each, so that the actors share the work (an input read as
    one block would go to one actor): streamed where this Ray can, else split in place."""
    import inspect

    if "target_num_rows_per_block" in inspect.signature(dataset.repartition).parameters:
        return dataset.repartition(target_num_rows_per_block=shard_size)
    return dataset.repartition(max(shards, 1))


def _actors(ray: Any, engine_options: dict[str, Any]) -> int:
    """Actors to start: as asked, else one per GPU share asked for, else one per CPU but one
    (which stays free for Ray Data's read tasks: with every CPU held by an actor, reading
    could never be scheduled)."""
    if engine_options.get("concurrency"):
        return int(engine_options["concurrency"])
    resources = ray.cluster_resources()
    if engine_options.get("num_gpus"):
        return max(1, int(resources.get("GPU", 0) // engine_options["num_gpus"]))
    return max(1, int(resources.get("CPU", 1)) - 1)


def _read(ray: Any, data: Any, source: Any, column: str, id_column: str | None) -> Any:
    """The input as a Ray Dataset of the wanted columns, in input order."""
    import pyarrow as pa

    wanted = [c for c in dict.fromkeys([column, id_column]) if c is not None]
    kind = source.description["kind"]
    if kind in ("csv", "tsv", "json", "parquet"):
        from integrad.runs.readers import files_of

        paths = [str(p) for p in files_of(Path(source.description["path"]))]
        if kind == "parquet":
            return ray.data.read_parquet(paths, columns=wanted)
        if kind == "json":
            return ray.data.read_json(paths, lines=True).select_columns(wanted)
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",",
                                   newlines_in_values=True)  # fmt: skip
        convert = pacsv.ConvertOptions(
            column_types={column: pa.binary()}, strings_can_be_null=False
        )
        dataset = ray.data.read_csv(paths, parse_options=parse, convert_options=convert)
        return dataset.select_columns(wanted)
    if kind == "pandas.DataFrame":
        return ray.data.from_pandas(data[wanted].reset_index(drop=True))
    table = getattr(getattr(data, "data", None), "table", None)  # a datasets.Dataset
    if kind == "datasets.Dataset" and isinstance(table, pa.Table):
        return ray.data.from_arrow(table.select(wanted))
    values = [v for chunk in source.read() for v in chunk.values]  # an iterable of strings
    return ray.data.from_arrow(pa.table({column: pa.array(values, pa.string())}))
