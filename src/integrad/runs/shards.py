"""A run folder's shards: ``part-NNNNN.parquet``, each written whole or not at all.

A shard is written to a temporary name in the run folder, flushed to disk, and renamed into
place; a crash at any moment leaves either no shard or a complete one (temporary files never
match :data:`SHARD`, and are removed when the run resumes).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

SHARD = re.compile(r"part-(\d{5,})\.parquet")
TEMPORARY = ".tmp-"


def shard_name(index: int) -> str:
    """``part-00007.parquet`` for shard 7."""
    return f"part-{index:05d}.parquet"


def text_schema() -> Any:
    """The columns of a text classification run, in order."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("text", pa.string()), ("status", pa.string()),
        ("error", pa.string()), ("predicted_label", pa.string()),
        ("target_label", pa.string()), ("probability", pa.float64()),
        ("output", pa.float64()), ("baseline_output", pa.float64()),
        ("tokens", pa.list_(pa.string())), ("token_scores", pa.list_(pa.float64())),
        ("words", pa.list_(pa.string())), ("word_scores", pa.list_(pa.float64())),
        ("delta", pa.float64()), ("error_estimate", pa.float64()), ("n_evals", pa.int64()),
        ("truncated", pa.bool_()),
    ])  # fmt: skip


def generation_schema() -> Any:
    """The columns of a generation run: one row per prompt, the scores as a matrix (one list
    per generated token, over the context tokens: the prompt's, then the generated ones);
    ``output``, ``baseline_output`` and ``delta`` have one value per generated token."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("text", pa.string()), ("status", pa.string()),
        ("error", pa.string()), ("generated", pa.string()),
        ("context_tokens", pa.list_(pa.string())), ("generated_tokens", pa.list_(pa.string())),
        ("scores", pa.list_(pa.list_(pa.float64()))),
        ("output", pa.list_(pa.float64())), ("baseline_output", pa.list_(pa.float64())),
        ("delta", pa.list_(pa.float64())), ("error_estimate", pa.float64()),
        ("n_evals", pa.int64()),
    ])  # fmt: skip


def finished(folder: Path) -> dict[int, Path]:
    """The complete shards in ``folder`` by index."""
    found = {}
    for p in folder.iterdir() if folder.is_dir() else ():
        match = SHARD.fullmatch(p.name)
        if match and p.is_file():
            found[int(match.group(1))] = p
    return dict(sorted(found.items()))


def shard_rows(path: Path) -> int | None:
    """Rows in a shard from its footer, or None when it cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:
        return None


def remove_temporary(folder: Path) -> None:
    """Deletes temporary files left by a run that was killed mid-shard."""
    for p in folder.iterdir():
        if TEMPORARY in p.name and p.is_file():
            p.unlink()


def write_shard(folder: Path, index: int, table: Any) -> Path:
    """Writes ``table`` as shard ``index``: to a temporary file, synced, then renamed."""
    import pyarrow.parquet as pq

    final = folder / shard_name(index)
    temporary = folder / f"{final.name}{TEMPORARY}{os.getpid()}"
    with open(temporary, "wb") as f:
        pq.write_table(table, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, final)
    sync_folder(folder)
    return final


def write_atomic(path: Path, text: str) -> None:
    """Writes a small text file whole: temporary file, sync, rename."""
    temporary = path.with_name(f"{path.name}{TEMPORARY}{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Makes a rename in ``folder`` durable (where the platform allows opening folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_run(out: str | os.PathLike, columns: list[str] | None = None) -> Any:
    """A run's rows as one pandas DataFrame, in input order (reads every shard: for large
    runs, read the shards one by one, or pass ``columns``).

    Example:
        >>> rows = integrad.load_run("runs/reviews", columns=["id", "status"])  # doctest: +SKIP
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from integrad.errors import InputError

    shards = list(finished(Path(out)).values())
    if not shards:
        raise InputError(f"{os.fspath(out)!r} holds no finished shards (part-NNNNN.parquet)")
    table = pa.concat_tables(pq.read_table(p, columns=columns) for p in shards)
    return table.to_pandas() if len(table) else pd.DataFrame(columns=table.schema.names)
