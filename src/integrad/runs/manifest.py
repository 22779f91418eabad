"""A run's ``manifest.json``: what was run, on what, and which shards are complete.

The *identity* of a run is the entries that decide its rows: the task, the model and its
weights' fingerprint, the options, the input and its columns, and the shard size. A run
resumes only into a folder whose manifest has the same identity; otherwise it is refused
with the entries that differ.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from integrad.errors import InputError
from integrad.runs.shards import write_atomic

NAME = "manifest.json"
#: Manifest entries that make up a run's identity, in the order differences are reported.
IDENTITY = ("task", "model", "fingerprint", "options", "input", "text_column", "id_column",
            "shard_size")  # fmt: skip


def fingerprint(model: Any) -> str:
    """A short hash of a torch module's parameters and buffers (names, dtypes, shapes, bytes).

    Example:
        >>> import torch
        >>> len(fingerprint(torch.nn.Linear(2, 2)))
        16
    """
    import torch

    digest = hashlib.blake2b(digest_size=8)
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        if t.numel():
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def read(folder: Path) -> dict[str, Any] | None:
    """The manifest in ``folder``, or None when there is none."""
    path = folder / NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(
            f"{path} cannot be read ({err}); it is not a run's manifest. Choose another --out "
            "folder, or delete this one to start over"
        ) from err
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a run's manifest; choose another --out folder")
    return data


def write(folder: Path, manifest: dict[str, Any]) -> None:
    """Writes the manifest atomically (a reader sees the old one or the new one)."""
    write_atomic(folder / NAME, json.dumps(manifest, indent=2, sort_keys=False, default=str))


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The identity entries in which two manifests differ, described for a person."""
    out = []
    for key in IDENTITY:
        a, b = _plain(old.get(key)), _plain(new.get(key))
        if a != b:
            there, now = json.dumps(a, default=str), json.dumps(b, default=str)
            out.append(f"{key}: {there} there, {now} now")
    return out


def _plain(value: Any) -> Any:
    """JSON round trip, so tuples and lists (and int keys) compare alike."""
    return json.loads(json.dumps(value, default=str))


def check_resumable(folder: Path, new: dict[str, Any], has_shards: bool) -> dict[str, Any] | None:
    """The old manifest when ``new`` may resume the run in ``folder``; refuses otherwise.

    Raises:
        InputError: The folder holds another run's shards (the message names what differs),
            or shards without a manifest.
    """
    old = read(folder)
    if old is None:
        if has_shards:
            raise InputError(
                f"{folder} holds shards but no {NAME}, so it cannot be told whether they "
                "belong to this run; choose another --out folder, or delete the shards"
            )
        return None
    changed = differences(old, new)
    if changed:
        raise InputError(
            f"{folder} holds another run, which differs in "
            + "; ".join(changed)
            + ". Choose another --out folder, or rerun with that run's settings to resume it"
        )
    return old
