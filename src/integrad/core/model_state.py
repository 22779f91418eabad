"""Put a model in the state IG needs for the length of one call, and restore it after."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from integrad.errors import IntegradWarning

# Modules that compute differently in training mode; a model holding one in training mode
# would give random or batch-dependent attributions, so the switch to eval is announced.
_TRAIN_SENSITIVE = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase)


@contextmanager
def inference_state(model: nn.Module | None) -> Iterator[None]:
    """Eval mode and frozen parameters for the block; the previous state comes back after.

    Eval mode makes IG deterministic (dropout would make every gradient random). Frozen
    parameters keep autograd from saving what it would need for weight gradients, which
    IG never uses: less memory and a cheaper backward.
    """
    if model is None:
        yield
        return
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    if any(training and isinstance(m, _TRAIN_SENSITIVE) for m, training in modes):
        warnings.warn(
            f"{type(model).__name__} was in training mode; integrad switched it to eval mode "
            "for this call (dropout would make the attributions random) and restored it after",
            IntegradWarning,
            stacklevel=4,
        )
    try:
        model.eval()
        for param, _ in flags:
            param.requires_grad_(False)
        yield
    finally:
        for module, training in modes:
            module.training = training
        for param, flag in flags:
            param.requires_grad_(flag)
