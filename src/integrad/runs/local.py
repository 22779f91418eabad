"""The local engine: read rows, cut them into shards, explain each shard, write it.

Shards are cut from the input's row order, so shard ``k`` always holds rows
``k * shard_size`` to ``(k + 1) * shard_size - 1``; a finished shard (one that landed under
its final name with the right number of rows) is skipped when a run resumes. Only one shard
of rows is held in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from integrad.errors import InputError
from integrad.runs import manifest as manifests
from integrad.runs.readers import Source
from integrad.runs.shards import finished, shard_name, shard_rows, write_shard


def shards_of(source: Source, shard_size: int) -> Iterator[tuple[int, list[str], list[Any]]]:
    """``(index, ids, values)`` for each shard of the input, in order."""
    ids: list[str] = []
    values: list[Any] = []
    index = 0
    for chunk in source.read():
        ids.extend(chunk.ids)
        values.extend(chunk.values)
        while len(ids) >= shard_size:
            yield index, ids[:shard_size], values[:shard_size]
            ids, values, index = ids[shard_size:], values[shard_size:], index + 1
    if ids:
        yield index, ids, values


def run_local(
    source: Source,
    rows: Any,
    folder: Path,
    shard_size: int,
    manifest: dict[str, Any],
    advance: Callable[[int], None],
) -> int:
    """Explains every shard not yet finished; returns the number of input rows."""
    done = finished(folder)
    total = 0
    for index, ids, values in shards_of(source, shard_size):
        total += len(ids)
        path = done.get(index)
        if path is not None and shard_rows(path) == len(ids):
            continue  # kept: the progress bar started with these rows done
        table = rows.explain(ids, values, advance)
        check_resolved(folder, manifest, rows)
        write_shard(folder, index, table)
        record(folder, manifest, rows, shard_name(index))
    return total


def check_resolved(folder: Path, manifest: dict[str, Any], rows: Any) -> None:
    """Refuse to add a shard whose settings resolved differently from the run's earlier
    shards: the options given are the same, but a default changed (a new integrad version,
    say), so the shards would not be comparable."""
    before, now = manifest.get("resolved_options"), getattr(rows, "resolved", None)
    if before is not None and now is not None and before != now:
        changed = ", ".join(
            f"{k}: {before.get(k)!r} there, {now.get(k)!r} now"
            for k in sorted({*before, *now})
            if before.get(k) != now.get(k)
        )
        raise InputError(
            f"{folder} holds a run whose settings resolved differently ({changed}), though the "
            "options given are the same (a default changed?). Give the settings explicitly to "
            "match that run, or choose another --out folder"
        )


def record(folder: Path, manifest: dict[str, Any], rows: Any, name: str) -> None:
    """Adds a landed shard to the manifest (and the settings explain used) and writes it."""
    manifest["complete"] = sorted({*manifest.get("complete", []), name})
    if getattr(rows, "resolved", None) is not None:
        manifest["resolved_options"] = rows.resolved
    manifests.write(folder, manifest)
