"""The models a web view serves: each loaded once, used by one request at a time.

A server holds one or more :class:`ModelSlot`: a classifier (explained with
:func:`integrad.explain`) or a language model (:func:`integrad.explain_generation`). Weights
load on first use, or up front with :meth:`ModelSlot.load` (the command line does this, so a
wrong ``--model`` is reported before the server starts). Explaining installs hooks on the
model for the length of a call, so calls on one model are serialised by a lock; they run in
worker threads, off the server's event loop, so pages and runs stay responsive meanwhile.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from integrad.errors import InputError, IntegradWarning
from integrad.hf.hub import peek_architectures, peek_labels

#: What a slot's model does: ``"classifier"`` (explain) or ``"generator"`` (generation).
KINDS = ("classifier", "generator")
_GENERATOR_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


def model_kind_of(model: Any) -> str:
    """``"generator"`` for causal and encoder-decoder language models, else ``"classifier"``,
    decided from the config (names and folders) or the class (loaded models), without
    loading weights."""
    if model is None:
        return "classifier"
    if isinstance(model, (str, os.PathLike)):
        names = peek_architectures(model)
    else:
        names = (type(getattr(model, "model", model)).__name__,)
    return "generator" if any(n.endswith(_GENERATOR_SUFFIXES) for n in names) else "classifier"


@dataclass
class ModelSlot:
    """One model the server can explain with.

    Attributes:
        spec: What the user gave: None (the bundled default model), a name or folder, or a
            loaded model or pipeline.
        tokenizer: Its tokenizer, a name or folder, or None to take the model's.
        key: The short name the pages and requests use for it (``"model"`` in requests).
        kind: One of :data:`KINDS`.
        options: Passed to the explain function on every call (``local_files_only``, ...).
    """

    spec: Any
    tokenizer: Any = None
    key: str = "default"
    kind: str = "classifier"
    options: dict[str, Any] = field(default_factory=dict)
    _loaded: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        """The model as the pages name it."""
        if self.spec is None:
            from integrad.hf.loading import DEFAULT_MODEL_NAME

            return DEFAULT_MODEL_NAME
        if isinstance(self.spec, (str, os.PathLike)):
            return os.fspath(self.spec)
        return self._load().name if self._loaded is not None else type(self.spec).__name__

    def labels(self) -> tuple[str, ...]:
        """A classifier's class names (read from its config when it is not loaded yet)."""
        if self.kind != "classifier":
            return ()
        if self._loaded is None:
            peeked = peek_labels(self.spec)
            if peeked is not None:
                return peeked
        self.load()
        model = self._loaded.model
        id2label = getattr(getattr(model, "config", None), "id2label", None) or {}
        return tuple(str(id2label[i]) for i in sorted(id2label))

    def load(self) -> None:
        """Loads the weights now (they load on first use otherwise)."""
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._loaded is None:
            from integrad.hf.loading import load_model

            task = "sequence-classification"
            if self.kind == "generator":
                from integrad.hf.loading import is_encoder_decoder

                generic = isinstance(self.spec, (str, os.PathLike))
                task = "causal-lm"
                if generic and is_encoder_decoder(self.spec, **self._load_options()):
                    task = "seq2seq-lm"
            self._loaded = load_model(self.spec, self.tokenizer, task=task, **self._load_options())
        return self._loaded

    def _load_options(self) -> dict[str, Any]:
        keys = ("trust_remote_code", "local_files_only")
        return {k: v for k, v in self.options.items() if k in keys}

    def explain(self, text: str, **arguments: Any) -> tuple[Any, list[str]]:
        """:func:`integrad.explain` on ``text``; returns the result and its warnings."""
        from integrad.modalities.text import explain

        return self._call(explain, text, arguments)

    def explain_generation(self, prompt: str, **arguments: Any) -> tuple[Any, list[str]]:
        """:func:`integrad.explain_generation` on ``prompt``; the result and its warnings."""
        from integrad.modalities.generation import explain_generation

        return self._call(explain_generation, prompt, arguments)

    def _call(self, function: Any, text: str, arguments: dict[str, Any]) -> tuple[Any, list[str]]:
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore")
            warnings.simplefilter("always", IntegradWarning)  # integrad's own are shown
            if self.spec is None:
                # The default model caches itself inside explain (loaded once per process).
                result = function(None, text, **arguments, **self.options)
            else:
                loaded = self._load()
                result = function(
                    loaded.model, text, tokenizer=loaded.tokenizer, **arguments, **self.options
                )
                result = replace(result, model_name=self.name)
        return result, list(dict.fromkeys(str(w.message) for w in caught))


def make_slots(
    models: Sequence[Any], tokenizer: Any = None, **options: Any
) -> dict[str, ModelSlot]:
    """One slot per model, keyed by a short unique name (the folder's or model's name).

    Args:
        models: What each model is (see :attr:`ModelSlot.spec`); empty means the default.
        tokenizer: The tokenizer of every model given as an object (or None).
        **options: ``trust_remote_code`` and ``local_files_only``, for models given by name.
    """
    slots: dict[str, ModelSlot] = {}
    for spec in list(models) or [None]:
        if spec is None:
            base = "default"
        elif isinstance(spec, (str, os.PathLike)):
            base = os.path.basename(os.path.normpath(os.fspath(spec))) or os.fspath(spec)
        else:
            base = type(getattr(spec, "model", spec)).__name__
        key, n = base, 2
        while key in slots:
            key, n = f"{base}-{n}", n + 1
        slots[key] = ModelSlot(
            spec, tokenizer, key=key, kind=model_kind_of(spec), options=dict(options)
        )
    return slots


def slot_named(slots: dict[str, ModelSlot], key: Any, kind: str) -> ModelSlot:
    """The slot a request names (``None``: the first of ``kind``), or a clear error."""
    fitting = {k: s for k, s in slots.items() if s.kind == kind}
    what = "text classifier" if kind == "classifier" else "language model"
    if not fitting:
        others = ", ".join(f"{k} ({s.kind})" for k, s in slots.items())
        raise InputError(
            f"this server has no {what}: its models are {others}. Start it with --model "
            f"pointing to a {what}"
        )
    if key is None or key == "":
        return next(iter(fitting.values()))
    if key not in fitting:
        raise InputError(f"unknown model {key!r}; this server's {what}s are {', '.join(fitting)}")
    return fitting[key]
