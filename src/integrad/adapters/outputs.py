"""Calling the model outside the IG loop: its output, recorded layers, and the class to explain."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from integrad.adapters.options import check_options as shared_check
from integrad.core.integrand import root_module as model_module
from integrad.core.model_state import inference_state
from integrad.errors import LayerError, TargetError
from integrad.targets import select_output


def forward_output(
    model: Callable[..., Any],
    inputs: Mapping[str, torch.Tensor],
    forward_kwargs: Mapping[str, Any] | None = None,
    positional: bool = False,
    record: Sequence[nn.Module] = (),
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The model output at ``inputs`` without gradients, and the outputs of ``record`` modules."""
    recorded: dict[int, torch.Tensor] = {}
    handles = [
        m.register_forward_hook(lambda mod, a, out, i=i: recorded.__setitem__(i, out.detach()))
        for i, m in enumerate(record)
    ]
    kwargs = dict(forward_kwargs or {})
    try:
        with inference_state(model_module(model)), torch.no_grad():
            raw = model(*inputs.values(), **kwargs) if positional else model(**inputs, **kwargs)
            out = select_output(raw)
    finally:
        for h in handles:
            h.remove()
    missing = [type(m).__name__ for i, m in enumerate(record) if i not in recorded]
    if missing:
        raise LayerError(
            f"layer {missing[0]} was not called by the forward pass; pass a module that belongs "
            "to the model and runs on these inputs"
        )
    return out, [recorded[i] for i in range(len(record))]


def resolve_class_target(
    target: Any, logits: torch.Tensor, labels: Sequence[str] | None
) -> torch.Tensor | Callable[..., Any] | None:
    """Class indices (N,) for ``target``, by index or label name; None for scalar outputs.

    ``None`` and ``"predicted"`` take the highest-scoring class; a callable is passed on.
    """
    if callable(target) and not isinstance(target, torch.Tensor):
        return target
    n = logits.shape[0]
    n_classes = logits[0].numel() if logits.dim() > 1 else 1
    if n_classes == 1 and target in (None, 0, "predicted"):
        return None
    if target is None or target == "predicted":
        return logits.reshape(n, -1).argmax(1)
    items = [target] * n if isinstance(target, (int, str)) else list(target)
    if any(not isinstance(t, (int, str)) and not _is_integer(t) for t in items):
        raise TargetError(
            "target must be one class (index or label) per example; for several targets per "
            "example, call the explain function once per target, or integrad.attribute "
            "directly with a (batch, K) target"
        )
    if len(items) != n:
        raise TargetError(f"target gives {len(items)} classes for {n} examples; give one each")
    return torch.tensor([_class_index(t, labels) for t in items], dtype=torch.long)


def _class_index(target: Any, labels: Sequence[str] | None) -> int:
    if isinstance(target, str):
        if labels is None or target not in labels:
            valid = f"one of {list(labels)}" if labels else "an index (no labels= were given)"
            raise TargetError(f"unknown target label {target!r}; expected {valid}")
        return list(labels).index(target)
    return int(target)


def class_probabilities(logits: torch.Tensor) -> torch.Tensor | None:
    """Softmax over the classes, (N, K), or None for a model with one output."""
    flat = logits.reshape(logits.shape[0], -1)
    return flat.float().softmax(1) if flat.shape[1] > 1 else None


def label_names(index: torch.Tensor | None, labels: Sequence[str] | None) -> list[str] | None:
    """The name of each example's target: ``labels[i]``, or the index as text."""
    if index is None:
        return None
    values = index.tolist() if isinstance(index, torch.Tensor) else list(index)
    return [str(labels[i]) if labels is not None and i < len(labels) else str(i) for i in values]


def _is_integer(value: Any) -> bool:
    """Integer scalars of numpy or torch (a class index taken from an array, say)."""
    if isinstance(value, torch.Tensor):
        return value.dim() == 0 and not value.is_floating_point()
    return hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0 and value.dtype.kind in "iu"


def check_one_target(delta: torch.Tensor) -> None:
    """Refuse several targets per example (a callable returning (rows, K)): one per call."""
    if delta.dim() > 1:
        raise TargetError(
            f"the target gives {delta.shape[1]} scores per example; the explain functions "
            "attribute one per example. Explain each target separately, or call "
            "integrad.attribute directly for several targets in one pass"
        )


def given_target(resolved: Any, reported: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """The class per example: the indices resolved here, else those the core reported.

    Resolved indices are the source of truth: the core's report of repeated rows (several
    baselines, blur segments, noisy copies) would need unpicking.
    """
    if isinstance(resolved, torch.Tensor):
        return resolved
    return None if reported is None else reported[:n]


#: What the explain functions set themselves when they call :func:`integrad.attribute`.
_SET_HERE = {
    "forward",
    "inputs",
    "baselines",
    "target",
    "layer",
    "layer_baselines",
    "forward_kwargs",
    "score",
    "method",
    "n_steps",
    "noise",
}


def check_options(options: Mapping[str, Any], function: str) -> None:
    """Refuse keyword arguments that :func:`integrad.attribute` would not take from us."""
    shared_check(options, function, _SET_HERE)
