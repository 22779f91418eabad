"""Models integrad cannot differentiate as given, recognised without importing their framework.

IG needs a torch function from tensors to tensors. Three things people hand over instead get
a message that names the fix: objects that are not callable (scikit-learn estimators),
Hugging Face pipelines (text in, label dicts out) and Keras models on a backend other than
torch (under ``KERAS_BACKEND=torch`` a Keras 3 model *is* a torch module and works as is).
Nothing here imports transformers or keras: a pipeline or a Keras model can only exist if
its framework is already imported.
"""

from __future__ import annotations

import sys
from typing import Any

from torch import nn

from integrad.errors import ModelError

#: The fix for a pipeline given to :func:`integrad.attribute`.
PIPELINE_FIX = (
    "explain text with integrad.explain(pipe, text), or attribute its model at the input "
    "embeddings: integrad.attribute(pipe.model, pipe.tokenizer(text, return_tensors='pt')"
    "['input_ids'], layer=pipe.model.get_input_embeddings())"
)


def check_model(model: Any, pipeline_fix: str = PIPELINE_FIX) -> None:
    """Refuse what cannot be attributed as given, with the fix in the message.

    Args:
        model: What the user passed as the model.
        pipeline_fix: What to do instead when ``model`` is a Hugging Face pipeline (front
            doors name their own classes).

    Raises:
        ModelError: ``model`` is not callable, is a pipeline, or is a Keras model that is
            not a torch module (another Keras backend).
    """
    if is_pipeline(model):
        raise ModelError(
            f"{type(model).__name__} is a Hugging Face pipeline: it takes text and returns "
            "label dicts, so there is no tensor to differentiate. Use its parts instead: "
            f"{pipeline_fix}"
        )
    if is_keras_model(model) and not isinstance(model, nn.Module):
        raise ModelError(
            f"{type(model).__name__} is a Keras model on the {keras_backend()!r} backend, so "
            "integrad cannot differentiate it. Keras 3 models are torch modules under the "
            "torch backend: set os.environ['KERAS_BACKEND'] = 'torch' before the first "
            "'import keras' (or export KERAS_BACKEND=torch), then rebuild or reload the model; "
            "weights saved with model.save('model.keras') or model.save_weights(...) load "
            "unchanged"
        )
    if not callable(model):
        raise ModelError(
            f"the model must be a torch module or function; got a non-callable "
            f"{type(model).__name__}. IG needs gradients, so models from scikit-learn or "
            "other frameworks cannot be attributed: use a torch model."
        )


def is_pipeline(obj: Any) -> bool:
    """Whether ``obj`` is a ``transformers.pipeline(...)`` object (transformers not imported)."""
    transformers = sys.modules.get("transformers")
    pipeline = getattr(transformers, "Pipeline", None) if transformers is not None else None
    return isinstance(pipeline, type) and isinstance(obj, pipeline)


def is_keras_model(obj: Any) -> bool:
    """Whether ``obj`` is a Keras 3 layer or model, of any backend (keras not imported)."""
    return any(cls.__module__.split(".")[0] == "keras" for cls in type(obj).__mro__)


def keras_backend() -> str:
    """The backend Keras runs on (``"torch"``, ``"tensorflow"``, ``"jax"``, ``"numpy"``)."""
    keras = sys.modules.get("keras")
    backend = getattr(getattr(keras, "config", None), "backend", None)
    return backend() if callable(backend) else "unknown"
