"""Inputs as a flat list of tensors: one tensor, a tuple (positional) or a dict (keywords)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Number
from typing import Any

import torch

from integrad.errors import BaselineError, InputError

Key = int | str


@dataclass(frozen=True)
class Structure:
    """How a flat list of tensors maps back to what the user passed.

    Attributes:
        kind: ``"tensor"``, ``"tuple"`` or ``"dict"``.
        keys: Position (tuple), name (dict) or ``0`` (single tensor) of each flat item.
    """

    kind: str
    keys: tuple[Key, ...]

    def unflatten(self, values: list[Any]) -> Any:
        """Rebuild the user's structure from a flat list."""
        if self.kind == "tensor":
            return values[0]
        if self.kind == "tuple":
            return tuple(values)
        return dict(zip(self.keys, values, strict=True))

    def call(
        self,
        forward: Callable[..., Any],
        values: list[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Call ``forward`` with the values placed positionally (before ``args``) or as keywords."""
        if self.kind == "dict":
            return forward(*args, **dict(zip(self.keys, values, strict=True)), **kwargs)
        return forward(*values, *args, **kwargs)


@dataclass(frozen=True)
class Call:
    """A forward call with its fixed parts: calling it with the inputs' values runs the model."""

    model: Callable[..., Any]
    structure: Structure
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __call__(self, values: list[Any]) -> Any:
        return self.structure.call(self.model, values, self.args, self.kwargs)


def flatten(inputs: Any) -> tuple[list[torch.Tensor], Structure]:
    """Split ``inputs`` into tensors and the structure that rebuilds it."""
    if isinstance(inputs, torch.Tensor):
        items: list[tuple[Key, Any]] = [(0, inputs)]
        kind = "tensor"
    elif isinstance(inputs, (tuple, list)):
        items, kind = list(enumerate(inputs)), "tuple"
    elif isinstance(inputs, Mapping):
        items, kind = list(inputs.items()), "dict"
    else:
        raise InputError(
            f"inputs must be a tensor, a tuple of tensors or a dict of tensors; got "
            f"{type(inputs).__name__}. Convert arrays with torch.as_tensor(...)."
        )
    if not items:
        raise InputError("inputs is empty: pass at least one tensor to attribute")
    tensors = []
    for key, value in items:
        if not isinstance(value, torch.Tensor):
            raise InputError(
                f"input {key!r} is a {type(value).__name__}, not a tensor; convert it with "
                "torch.as_tensor(...), or pass non-attributed arguments in forward_args or "
                "forward_kwargs"
            )
        if value.dim() == 0:
            raise InputError(f"input {key!r} is a scalar; inputs need a leading batch dimension")
        tensors.append(value)
    batch = {t.shape[0] for t in tensors}
    if len(batch) != 1:
        raise InputError(f"inputs disagree on the batch size (first dimension): {sorted(batch)}")
    return tensors, Structure(kind, tuple(key for key, _ in items))


def check_finite(tensor: torch.Tensor, what: str) -> None:
    """Refuse NaN and inf, which make every gradient along the path meaningless."""
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise InputError(
            f"{what} contains NaN or inf values; replace or impute them before attributing "
            "(e.g. torch.nan_to_num)"
        )


def per_input(value: Any, structure: Structure, what: str) -> list[Any]:
    """Spread a baseline-like argument over the flat inputs.

    A single scalar, tensor or None applies to every input; a tuple or dict must follow the
    structure of the inputs.
    """
    if value is None or isinstance(value, (Number, torch.Tensor)):
        return [value] * len(structure.keys)
    if structure.kind == "dict" and isinstance(value, Mapping):
        unknown = set(value) - set(structure.keys)
        if unknown:
            raise BaselineError(
                f"{what} names {sorted(map(str, unknown))}, which are not among the inputs "
                f"{list(structure.keys)}"
            )
        return [value.get(key) for key in structure.keys]
    if structure.kind == "tuple" and isinstance(value, (tuple, list)):
        if len(value) != len(structure.keys):
            raise BaselineError(
                f"{what} has {len(value)} items but there are {len(structure.keys)} inputs; "
                "give one per input (None for the default)"
            )
        return list(value)
    raise BaselineError(
        f"{what} must be None, a number, a tensor, or one per input in the same structure as "
        f"the inputs ({structure.kind}); got {type(value).__name__}"
    )


def full_baseline(baseline: Any, reference: torch.Tensor, name: Key) -> torch.Tensor:
    """A baseline expanded to the shape, dtype and device of ``reference``."""
    if baseline is None:
        return torch.zeros_like(reference)
    if isinstance(baseline, Number):
        return torch.full_like(reference, baseline)
    if not isinstance(baseline, torch.Tensor):
        raise BaselineError(f"baseline for {name!r} must be a number or a tensor")
    try:
        shape = torch.broadcast_shapes(baseline.shape, reference.shape)
    except RuntimeError:
        shape = None
    if shape != reference.shape:
        raise BaselineError(
            f"baseline for {name!r} has shape {tuple(baseline.shape)}, which does not broadcast "
            f"to the input's shape {tuple(reference.shape)}; give one baseline per example "
            f"{tuple(reference.shape)} or one for all {tuple(reference.shape[1:])}"
        )
    return baseline.to(device=reference.device, dtype=reference.dtype).expand_as(reference)
