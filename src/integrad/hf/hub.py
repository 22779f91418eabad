"""Before any weights load: is a name a folder, cached, or reachable; what are its labels;
and keeping transformers' progress bars and log lines off the user's terminal."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from integrad.errors import ModelError

#: Seconds the one connection attempt to the hub may take before a name is refused.
HUB_TIMEOUT = 2.0
HUB_HOST = "huggingface.co"


def verbose() -> bool:
    """Whether third-party progress bars and warnings are wanted (``INTEGRAD_VERBOSE=1``)."""
    return os.environ.get("INTEGRAD_VERBOSE", "") not in ("", "0")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """transformers' progress bars and log lines off for the block (unless :func:`verbose`)."""
    if verbose():
        yield
        return
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def looks_local(name: str) -> bool:
    """Hub names are "name" or "org/name"; anything else is meant as a folder here."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def check_reachable(name: str, local_files_only: bool) -> None:
    """Refuse, at once and with the fix, a hub name that is neither a folder, nor in the
    local cache, nor downloadable: one short connection attempt instead of a retry storm."""
    if Path(name).expanduser().exists() or _cached(name):
        return
    offline = local_files_only or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if offline:
        raise ModelError(
            f"model {name!r} is not a local folder and not in the Hugging Face cache, and "
            "--offline (local_files_only=True, or HF_HUB_OFFLINE) forbids downloading it. "
            "Give a folder written by save_pretrained(), or download the model once online"
        )
    try:
        socket.create_connection((HUB_HOST, 443), timeout=HUB_TIMEOUT).close()
    except OSError as err:
        raise ModelError(
            f"model {name!r} is not a local folder and not in the Hugging Face cache, and "
            f"{HUB_HOST} cannot be reached from here ({err.__class__.__name__}). Give a "
            "folder written by save_pretrained(), or run once where the hub is reachable "
            "(then --offline uses the cached copy)"
        ) from err


def _cached(name: str) -> bool:
    return _config_file(name) is not None


def peek_labels(model: Any) -> tuple[str, ...] | None:
    """A classifier's class names without loading its weights, torch or transformers: from
    a loaded model's config, or the ``config.json`` of a folder or a cached hub name; the
    bundled model's from its head's config. None when they cannot be read this way."""
    if model is None:  # found without importing the package (it imports torch)
        spec = importlib.util.find_spec("integrad.models")
        folder = Path(next(iter(spec.submodule_search_locations)))  # type: ignore[union-attr]
        head = folder / "default" / "config.json"
        return tuple(json.loads(head.read_text(encoding="utf-8"))["labels"])
    model = getattr(model, "model", model)  # a pipeline's model
    config = getattr(model, "config", None)
    if config is not None:
        id2label = getattr(config, "id2label", None) or {}
    elif isinstance(model, (str, os.PathLike)):
        path = _config_file(os.fspath(model))
        if path is None:
            return None
        id2label = json.loads(path.read_text(encoding="utf-8")).get("id2label") or {}
    else:
        return None
    try:
        by_index = {int(k): str(v) for k, v in id2label.items()}
        return tuple(by_index[i] for i in range(len(by_index))) or None
    except (KeyError, TypeError, ValueError):
        return None


def peek_architectures(name: str | os.PathLike) -> tuple[str, ...]:
    """A folder's or cached hub name's ``config.architectures`` without loading anything
    (empty when there is no readable config)."""
    path = _config_file(os.fspath(name))
    if path is None:
        return ()
    try:
        return tuple(json.loads(path.read_text(encoding="utf-8")).get("architectures") or ())
    except (OSError, ValueError, AttributeError):
        return ()


def _config_file(name: str) -> Path | None:
    """The config.json of a folder, or of a hub name in the local cache."""
    folder = Path(name).expanduser()
    if (folder / "config.json").is_file():
        return folder / "config.json"
    if looks_local(name):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        return None
    found = try_to_load_from_cache(name, "config.json")
    return Path(found) if isinstance(found, str) else None
