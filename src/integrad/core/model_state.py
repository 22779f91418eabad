"""Put a model in the state IG needs for the length of one call, and restore it after."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from integrad.errors import IntegradError, IntegradWarning

# Modules that compute differently in training mode; a model holding one in training mode
# would give random or batch-dependent attributions, so the switch to eval is announced.
_TRAIN_SENSITIVE = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase)


def modules_behind(forward: Callable[..., Any]) -> list[nn.Module]:
    """The torch modules a forward runs: itself, the owner of a bound method, or the modules
    a function or ``functools.partial`` holds (closure cells, defaults, globals it names).

    Example:
        >>> mlp = nn.Linear(2, 1)
        >>> modules_behind(lambda x: mlp(x)) == [mlp]
        True
    """
    found: dict[int, nn.Module] = {}

    def visit(obj: Any, depth: int) -> None:
        if isinstance(obj, nn.Module):
            found.setdefault(id(obj), obj)
            return
        if depth > 2:
            return
        if isinstance(obj, functools.partial):
            for item in (obj.func, *obj.args, *obj.keywords.values()):
                visit(item, depth + 1)
            return
        owner = getattr(obj, "__self__", None)
        if owner is not None:
            visit(owner, depth + 1)
        code = getattr(obj, "__code__", None)
        if code is None:
            return
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                visit(cell.cell_contents, depth + 1)
            except ValueError:  # an empty cell
                continue
        for value in getattr(obj, "__defaults__", None) or ():
            visit(value, depth + 1)
        names = getattr(obj, "__globals__", {})
        for name in code.co_names:
            if name in names:
                visit(names[name], depth + 1)

    visit(forward, 0)
    # A module that another found module contains is covered by its parent.
    roots = list(found.values())
    inner = {id(m) for r in roots for m in r.modules() if m is not r}
    return [m for m in roots if id(m) not in inner]


def check_grad_mode() -> None:
    """Refuse inference mode, where no tensor can record a gradient (``no_grad`` is fine)."""
    if torch.is_inference_mode_enabled():
        raise IntegradError(
            "integrad was called inside torch.inference_mode(), where tensors cannot record "
            "gradients, and IG integrates gradients. Call it outside inference_mode (inside "
            "torch.no_grad() is fine: integrad turns gradients on for the integration)"
        )


@contextmanager
def inference_state(models: nn.Module | list[nn.Module] | None) -> Iterator[None]:
    """Eval mode and frozen parameters for the block; the previous state comes back after.

    Eval mode makes IG deterministic (dropout would make every gradient random). Frozen
    parameters keep autograd from saving what it would need for weight gradients, which
    IG never uses: less memory and a cheaper backward. Gradients are switched on for the
    block, so a caller's ``torch.no_grad()`` does not stop the integration.
    """
    modules = [] if models is None else [models] if isinstance(models, nn.Module) else models
    modes = [(m, m.training) for model in modules for m in model.modules()]
    flags = [(p, p.requires_grad) for model in modules for p in model.parameters()]
    for model in modules:
        if any(m.training and isinstance(m, _TRAIN_SENSITIVE) for m in model.modules()):
            warnings.warn(
                f"{type(model).__name__} was in training mode; integrad switched it to eval "
                "mode for this call (dropout would make the attributions random) and restored "
                "it after",
                IntegradWarning,
                stacklevel=4,
            )
    try:
        for model in modules:
            model.eval()
        for param, _ in flags:
            param.requires_grad_(False)
        with torch.enable_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training
        for param, flag in flags:
            param.requires_grad_(flag)
