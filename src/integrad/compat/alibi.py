"""alibi's ``IntegratedGradients``, for torch models and Keras 3 models, on integrad's engine.

alibi's explainer works only with TensorFlow. An alibi script switches by changing its
import (and, for a Keras model, the backend: ``KERAS_BACKEND=torch`` before keras is first
imported; the saved model loads unchanged)::

    from integrad.compat.alibi import IntegratedGradients

    ig = IntegratedGradients(model, layer=None, method="gausslegendre", n_steps=50,
                             internal_batch_size=100)
    explanation = ig.explain(X, baselines=None, target=predictions)
    explanation.attributions[0]  # numpy, shaped like X

The explanation has alibi's layout: ``meta`` (name, type, explanations, params, version) and
``data`` (``attributions``: a list of numpy arrays, one per input or layer tensor;
``predictions``: the model's output at X; ``deltas``: the completeness error per example;
``target``; ``baselines`` and ``X`` as alibi keeps them), each key also an attribute.

Differences from alibi: ``riemann_trapezoid`` is the true composite rule (alibi's weights,
like Captum's, add up to (n - 1) / n); ``deltas`` are the completeness error of the scalar
that was attributed; integer inputs without a ``layer`` raise an error naming the embedding
layer; ``method="adaptive"`` with ``tol=`` is an addition. For torch models a list ``X`` is
passed positionally, ``model(*X)``; Keras models get the list, ``model(X)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

import integrad
from integrad.compat.captum import settings
from integrad.compat.keras import ListInputs
from integrad.core.engine import attribute
from integrad.core.foreign import check_model, is_keras_model
from integrad.core.model_state import inference_state, modules_behind
from integrad.errors import BaselineError, InputError, TargetError, integer_input_message
from integrad.options import Options
from integrad.targets import PerExample, select_output

EMBEDDING_FIX = (
    "IntegratedGradients(model, layer=<its embedding layer>) (model.get_input_embeddings() "
    "for Hugging Face models, model.get_layer('embedding') for Keras)"
)


class Explanation:
    """alibi's explanation layout: ``meta`` and ``data`` dicts, each key also an attribute.

    Attributes:
        meta: ``name``, ``type``, ``explanations``, ``params`` (the explainer's settings) and
            ``version`` (integrad's).
        data: ``attributions`` (list of numpy arrays), ``X``, ``forward_kwargs``,
            ``baselines``, ``predictions``, ``deltas`` and ``target``.
    """

    def __init__(self, meta: dict[str, Any], data: dict[str, Any]) -> None:
        self.meta = meta
        self.data = data
        for key, value in {**data, **meta}.items():
            setattr(self, key, value)

    def to_json(self) -> str:
        """``meta`` and ``data`` as JSON (arrays become nested lists)."""
        return json.dumps({"meta": self.meta, "data": self.data}, default=_plain)

    def __repr__(self) -> str:
        fields = ", ".join(sorted(self.data))
        return f"Explanation(name={self.meta['name']!r}, data: {fields})"


class IntegratedGradients:
    """alibi's ``IntegratedGradients``.

    Args:
        model: A torch module, or a Keras 3 model under ``KERAS_BACKEND=torch``.
        layer: Attribute to this layer's output (or inputs) instead of the model's inputs:
            a torch module or Keras layer of the model, or a function ``model -> layer``.
        target_fn: A function from the predictions (numpy, (N, ...)) to one integer target
            per example, e.g. ``functools.partial(np.argmax, axis=1)``.
        method: ``"gausslegendre"`` (default), a Riemann rule, or ``"adaptive"``.
        n_steps: Points on the path (default 50); not for ``method="adaptive"``.
        internal_batch_size: Most rows (path points x examples) per forward pass.
        tol: For ``method="adaptive"``: the relative error allowed per example.

    Example:
        >>> import numpy as np, torch
        >>> ig = IntegratedGradients(torch.nn.Linear(3, 2))
        >>> ig.explain(np.ones((4, 3), np.float32), target=1).attributions[0].shape
        (4, 3)
    """

    def __init__(
        self,
        model: Any,
        layer: Any = None,
        target_fn: Callable[[np.ndarray], Any] | None = None,
        method: str = "gausslegendre",
        n_steps: int | None = None,
        internal_batch_size: int = 100,
        *,
        tol: float | None = None,
    ) -> None:
        check_model(model)
        self.model = model
        called = layer is not None and not isinstance(layer, nn.Module)
        self.layer = layer(model) if called else layer
        self.target_fn = target_fn
        self.settings = settings(method, n_steps, internal_batch_size, tol, None)
        Options.from_settings(self.settings, function="IntegratedGradients()")  # checked now
        self.meta = {
            "name": "IntegratedGradients",
            "type": ["whitebox"],
            "explanations": ["local"],
            "params": {
                "target_fn": target_fn,
                "method": method,
                "n_steps": self.settings.get("n_steps"),
                "internal_batch_size": internal_batch_size,
                "layer": _layer_name(model, layer, self.layer),
            },
            "version": integrad.__version__,
        }

    def explain(
        self,
        X: np.ndarray | list[np.ndarray],
        forward_kwargs: dict[str, Any] | None = None,
        baselines: Any = None,
        target: int | list[Any] | np.ndarray | None = None,
        attribute_to_layer_inputs: bool = False,
    ) -> Explanation:
        """Integrated Gradients for each example of ``X``.

        Args:
            X: A numpy array (N, ...), or a list of them for a model with several inputs.
            forward_kwargs: Further keyword arguments of the model, not attributed; arrays
                whose first dimension is N are repeated along the path.
            baselines: None (zeros), a number, or an array shaped like ``X``; for a list
                ``X``, a list with one of those per input.
            target: Which output to explain: an int for every example, or one per example
                (a list or array); for outputs with more than two dimensions, an (N, k)
                array of indices. None only for models with one output per example. For a
                model returning one probability per example, targets 0 and 1 explain the
                negative and the positive class.
            attribute_to_layer_inputs: With ``layer``, attribute to its inputs.

        Returns:
            An :class:`Explanation` in alibi's layout.
        """
        forward_kwargs = {} if forward_kwargs is None else forward_kwargs
        arrays = _arrays(X)
        device = _device(self.model)
        tensors = [torch.as_tensor(a, device=device) for a in arrays]
        if self.layer is None:
            for i, x in enumerate(tensors):
                if not x.is_floating_point():
                    raise InputError(integer_input_message(str(i), x.dtype, fix=EMBEDDING_FIX))
        bases = _baselines(baselines, arrays, isinstance(X, list))
        kwargs = {
            key: torch.as_tensor(value, device=device) if isinstance(value, np.ndarray) else value
            for key, value in forward_kwargs.items()
        }
        several = len(tensors) > 1
        forward = ListInputs(self.model) if several and is_keras_model(self.model) else self.model
        with inference_state(modules_behind(forward)), torch.no_grad():
            predictions = select_output(forward(*tensors, **kwargs)).detach().cpu().numpy()
        if self.target_fn is not None:
            if target is not None:
                raise TargetError("give target or target_fn, not both")
            target = np.asarray(self.target_fn(predictions)).astype(int)
        target = _format_target(target, len(arrays[0]))
        base_tensors = tuple(torch.as_tensor(b, device=device) for b in _listed(bases))
        result = attribute(
            forward,
            tuple(tensors) if several else tensors[0],
            baseline=base_tensors if several else base_tensors[0],
            target=_engine_target(target, predictions),
            layer=self.layer,
            attribute_to_layer_input=attribute_to_layer_inputs,
            forward_kwargs=kwargs,
            **self.settings,
        )
        data = {
            "attributions": [a.detach().cpu().numpy() for a in _listed(result.attributions)],
            "X": X,
            "forward_kwargs": forward_kwargs,
            "baselines": bases,
            "predictions": predictions,
            "deltas": result.delta.detach().cpu().numpy(),
            "target": target,
        }
        return Explanation(meta=dict(self.meta), data=data)


def _arrays(X: Any) -> list[np.ndarray]:
    items = X if isinstance(X, list) else [X]
    if not items or not all(isinstance(x, np.ndarray) for x in items):
        raise InputError("X must be a numpy array or a list of numpy arrays (one per input)")
    if len({len(x) for x in items}) != 1:
        sizes = [len(x) for x in items]
        raise InputError(f"the inputs in X have different first dimensions {sizes}")
    return items


def _baselines(baselines: Any, arrays: list[np.ndarray], is_list: bool) -> Any:
    """alibi's formatted baselines: one array per input, in the inputs' dtypes."""
    if not is_list or baselines is None:
        given = [baselines] * len(arrays)
    elif isinstance(baselines, list) and len(baselines) == len(arrays):
        given = baselines
    else:
        raise BaselineError(
            f"X is a list of {len(arrays)} inputs, so baselines must be None or a list with one "
            "baseline per input"
        )
    formatted = []
    for b, x in zip(given, arrays, strict=True):
        if b is None:
            formatted.append(np.zeros_like(x))
        elif isinstance(b, (int, float)):
            formatted.append(np.full(x.shape, b, dtype=x.dtype))
        elif isinstance(b, np.ndarray):
            formatted.append(b.astype(x.dtype))
        else:
            raise BaselineError(
                f"baselines must be None, a number or a numpy array; got {type(b).__name__}"
            )
    return formatted if is_list else formatted[0]


def _format_target(target: Any, n: int) -> np.ndarray | None:
    """alibi's target as an integer array, (N,) or (N, k)."""
    if target is None:
        return None
    array = np.full(n, target) if isinstance(target, (int, np.integer)) else np.asarray(target)
    if not np.issubdtype(array.dtype, np.integer) or array.ndim not in (1, 2) or len(array) != n:
        raise TargetError(
            f"target must be an int, or integer indices with one row per example, shape ({n},) "
            f"or ({n}, k); got {target!r}"
        )
    return array


def _engine_target(target: np.ndarray | None, predictions: np.ndarray) -> Any:
    """integrad's target for alibi's, given the model's output at X."""
    width = int(np.prod(predictions.shape[1:]))
    if target is None:
        if width != 1:
            raise TargetError(
                f"target=None, but the model returns {width} outputs per example; give target= "
                "(the true or the predicted classes) or target_fn=, as alibi requires"
            )
        return None
    if width == 1:  # one probability per example: 1 is the positive class, 0 the negative
        if not np.isin(target, (0, 1)).all():
            raise TargetError(
                f"the model returns one output per example, so targets must be 0 (the negative "
                f"class) or 1 (the positive class); got {np.unique(target).tolist()}"
            )
        positive = torch.as_tensor(target.reshape(-1) == 1)

        def chosen(output: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
            value = output.reshape(output.shape[0])
            return torch.where(positive.to(value.device)[example], value, 1 - value)

        return PerExample(chosen)
    return [tuple(row) for row in target.reshape(len(target), -1).tolist()]


def _listed(values: Any) -> list[Any]:
    """A tensor or array as a one-item list; tuples and lists as lists."""
    return list(values) if isinstance(values, (tuple, list)) else [values]


def _device(model: Any) -> torch.device:
    params = model.parameters() if isinstance(model, nn.Module) else iter(())
    return next((p.device for p in params), torch.device("cpu"))


def _layer_name(model: Any, given: Any, layer: nn.Module | None) -> int | str:
    """How alibi records the layer: unspecified, callable, or its index in ``model.layers``."""
    if given is None:
        return "unspecified"
    if not isinstance(given, nn.Module):
        return "callable"
    layers = list(getattr(model, "layers", None) or ())
    if any(item is layer for item in layers):
        return next(i for i, item in enumerate(layers) if item is layer)
    names = {id(module): name for name, module in model.named_modules()}
    return names.get(id(layer), "non-serializable")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)
