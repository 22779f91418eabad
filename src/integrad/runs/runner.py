"""``integrad.explain_dataset``: explain every row of a dataset into a resumable run folder."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integrad.errors import InputError
from integrad.runs import manifest as manifests
from integrad.runs.generation_rows import GENERATION_ARGUMENTS
from integrad.runs.readers import open_source
from integrad.runs.rows import TEXT_ARGUMENTS, check_options
from integrad.runs.shards import finished, remove_temporary

#: Engine names, for the command line's choices.
ENGINES = ("local", "ray")
#: Task -> (rows class "module:Class", arguments besides the integration settings).
TASKS = {
    "text": ("integrad.runs.rows:TextRows", TEXT_ARGUMENTS),
    "generation": ("integrad.runs.generation_rows:GenerationRows", GENERATION_ARGUMENTS),
}
DEFAULT_SHARD_SIZE = 256


@dataclass(frozen=True)
class DatasetRun:
    """What :func:`explain_dataset` did.

    Attributes:
        out: The run folder.
        rows: Input rows (one output row each).
        failed: Rows with ``status="error"``.
        shards: Shards in the folder.
        resumed: Shards that were already finished and kept.
        seconds: Wall time of this call.
    """

    out: Path
    rows: int
    failed: int
    shards: int
    resumed: int
    seconds: float


def explain_dataset(
    model: Any,
    data: Any,
    *,
    out: str | Path,
    text_column: str = "text",
    id_column: str | None = None,
    engine: str = "local",
    shard_size: int = DEFAULT_SHARD_SIZE,
    task: str = "text",
    prompt_column: str = "prompt",
    quiet: bool = False,
    **options: Any,
) -> DatasetRun:
    """Explains every row of a dataset and writes the results as Parquet shards.

    Args:
        model: The model, as :func:`integrad.explain` takes it (None: the default model).
        data: A CSV, TSV, JSON Lines or Parquet path or a folder of such files, a pandas
            DataFrame, a ``datasets.Dataset``, or an iterable of strings. Read in batches.
        out: The run folder: ``part-NNNNN.parquet`` shards and ``manifest.json``. Rerunning
            the same call resumes it; a different run into the same folder is refused.
        text_column: The column holding the texts (``task="text"``).
        id_column: A column of row ids; None numbers the rows from 0.
        engine: ``"local"`` (this process) or ``"ray"`` (Ray Data; ``pip install
            integrad[ray]``; uses the running Ray instance, or starts a local one).
        shard_size: Rows per shard: the unit of writing and resuming (part of the run's
            identity).
        task: ``"text"`` (classifiers, via :func:`integrad.explain`) or ``"generation"``
            (one row per prompt, via :func:`integrad.explain_generation`).
        prompt_column: The column holding the prompts (``task="generation"``).
        quiet: No progress bar.
        **options: Everything else the explain function takes: ``tokenizer``, ``target``,
            ``baseline``, ``max_length``, integration settings (see :class:`integrad.Options`),
            and for the ray engine ``num_gpus`` (per actor) and ``concurrency`` (actors).

    Returns:
        A :class:`DatasetRun`; read the rows with :func:`integrad.load_run` or
        summarise them with :func:`integrad.summarize`.

    Example:
        >>> run = integrad.explain_dataset(None, "tweets.csv", out="runs/t")  # doctest: +SKIP
        >>> integrad.summarize(run.out)  # doctest: +SKIP
    """
    started = time.perf_counter()
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise InputError(f"shard_size must be a positive integer, got {shard_size!r}")
    engine_options = {k: options.pop(k) for k in ("num_gpus", "concurrency") if k in options}
    if engine_options and engine != "ray":
        raise InputError(f"{', '.join(engine_options)} applies to engine='ray' only")
    column = text_column if task == "text" else prompt_column
    # Mistakes in the input, the columns, the options or the folder are answered before
    # the model is loaded.
    source = open_source(data, column, id_column)
    rows_class, arguments = TASKS[task]
    check_options(options, arguments, "explain_dataset()")
    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"out={str(folder)!r} is a file; give a folder for the run")
    identity = {
        "task": task,
        "options": plain_options(options),
        "input": source.description,
        "text_column": column,
        "id_column": id_column,
        "shard_size": shard_size,
    }
    old = manifests.read(folder) if folder.is_dir() else None
    if old is not None:  # everything but the model is checked before loading it
        changed = manifests.differences(old, {**old, **identity})
        if changed:
            manifests.check_resumable(folder, {**old, **identity}, True)
    rows = _rows_class(rows_class)(model, **options)
    import integrad

    manifest = {
        "integrad_version": integrad.__version__,
        "model": rows.name,
        "fingerprint": manifests.fingerprint(rows.model),
        **identity,
        "engine": engine,
        "rows": source.rows,
        "complete": [],
    }
    folder.mkdir(parents=True, exist_ok=True)
    kept = finished(folder)
    old = manifests.check_resumable(folder, manifest, bool(kept))
    if old is not None:
        manifest["complete"] = [n for n in old.get("complete", []) if (folder / n).is_file()]
        manifest.update({k: old[k] for k in ("resolved_options",) if k in old})
    remove_temporary(folder)
    manifests.write(folder, manifest)
    done = sum(_rows_in(p) for p in kept.values())
    if engine == "ray":
        from integrad.runs.ray_engine import run_ray

        total = run_ray(data, source, rows, folder, shard_size, manifest, quiet,
                        engine_options, model, options, rows_class)  # fmt: skip
    else:
        from integrad.runs.local import run_local
        from integrad.runs.progress import progress_bar

        with progress_bar(source.rows, done, quiet) as advance:
            total = run_local(source, rows, folder, shard_size, manifest, advance)
    manifest["rows"] = total
    manifest["finished"] = True
    manifests.write(folder, manifest)
    shards = finished(folder)
    return DatasetRun(
        out=folder,
        rows=total,
        failed=_count_failed(shards.values()),
        shards=len(shards),
        resumed=len(kept),
        seconds=time.perf_counter() - started,
    )


def _rows_class(spec: str) -> Any:
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def _rows_in(path: Path) -> int:
    from integrad.runs.shards import shard_rows

    return shard_rows(path) or 0


def _count_failed(paths: Any) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    return sum(
        pc.sum(pc.equal(pq.read_table(p, columns=["status"])["status"], "error")).as_py() or 0
        for p in paths
    )


def plain_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options as JSON data for the manifest: objects (a tokenizer, an Options) by name."""

    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return plain(dataclasses.asdict(value))
        name = getattr(value, "name_or_path", None)
        return f"{type(value).__name__}({name})" if name else type(value).__name__

    return json.loads(json.dumps({k: plain(v) for k, v in sorted(options.items())}))
