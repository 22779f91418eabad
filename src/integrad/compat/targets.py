"""Captum's target forms, read into integrad's (see :mod:`integrad.targets`).

Captum's ``target`` is None (the model returns one value per example), an int or a
one-element tensor (that output for every example), a tuple (one index into a
multi-dimensional output, for every example), or a list or 1-D tensor with one int or tuple
per example. The forms are the same as integrad's except two:

- ``None`` explains the prediction in integrad, but in Captum it is only valid for a model
  with one output per example; the front doors follow Captum and refuse it otherwise;
- an int indexes the last dimension in Captum, never a flattened multi-dimensional output,
  so it is read as a one-item tuple and checked against the output's shape.
"""

from __future__ import annotations

from typing import Any

import torch

from integrad.errors import TargetError
from integrad.targets import TargetSpec


def captum_target(target: Any) -> TargetSpec:
    """The integrad target for a Captum ``target`` (see the module docstring).

    Raises:
        TargetError: A form Captum does not have (a 2-D tensor, nested lists, a float).
    """
    if target is None:
        return single_output
    if isinstance(target, torch.Tensor):
        if target.is_floating_point():
            raise TargetError(f"a target tensor must hold integer indices; got {target.dtype}")
        if target.numel() == 1:
            return (int(target.item()),)
        if target.dim() != 1:
            raise TargetError(
                f"a target tensor must have one index per example, shape (batch,); got "
                f"{tuple(target.shape)}. For several targets per example, call "
                "integrad.attribute with a (batch, K) target"
            )
        return [(int(t),) for t in target.tolist()]
    if isinstance(target, list):
        return [_one(t) for t in target]
    return _one(target)


def _one(target: Any) -> tuple[int, ...]:
    """One example's target as an index tuple (an int indexes the last dimension)."""
    if isinstance(target, tuple):
        return target
    if isinstance(target, int) and not isinstance(target, bool):
        return (target,)
    raise TargetError(
        f"a target must be an int, a tuple of ints, or a list or 1-D tensor of them (one per "
        f"example); got {target!r}. For several targets per example, call integrad.attribute "
        "with a (batch, K) target"
    )


def single_output(output: torch.Tensor) -> torch.Tensor:
    """The target for ``target=None``: each example's only output, (rows,).

    Raises:
        TargetError: The model returns several outputs per example.
    """
    per_example = output.reshape(output.shape[0], -1)
    if per_example.shape[1] != 1:
        raise TargetError(
            f"target=None, but the model returns {per_example.shape[1]} outputs per example "
            f"(output shape {tuple(output.shape)}). As in Captum, target=None needs a model "
            "with one output per example: give target=<class index> (or one per example). "
            "(integrad.attribute's target=None explains the predicted class instead.)"
        )
    return per_example[:, 0]
