"""What scalar is attributed: turning a model's output into one number per example.

A target is resolved once, at the input, into a :class:`ResolvedTarget` that the engine
applies to every interpolated row. Scores are transforms of the model output applied
before the target selects a class: ``"logit"`` (the output itself), ``"probability"``
(softmax) and ``"log_prob"`` (log-softmax).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from integrad.errors import ModelError, TargetError

TargetSpec = (
    int | Sequence[int] | torch.Tensor | str | Callable[[torch.Tensor], torch.Tensor] | None
)

SCORES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "logit": lambda out: out,
    "probability": lambda out: out.softmax(-1),
    "log_prob": lambda out: out.log_softmax(-1),
}


def select_output(raw: Any) -> torch.Tensor:
    """The output tensor of a forward call: a tensor, the first item of a tuple, or ``.logits``."""
    if isinstance(raw, torch.Tensor):
        return raw
    logits = getattr(raw, "logits", None)
    if isinstance(logits, torch.Tensor):  # Hugging Face ModelOutput
        return logits
    if isinstance(raw, dict) and isinstance(raw.get("logits"), torch.Tensor):
        return raw["logits"]
    if isinstance(raw, (tuple, list)) and raw and isinstance(raw[0], torch.Tensor):
        return raw[0]
    raise ModelError(
        f"the forward function returned {type(raw).__name__}, not a torch tensor: integrad "
        "differentiates torch code, so the model must be a torch module or function that "
        "returns a tensor, a tuple whose first item is the output, or an object with .logits. "
        "Models from scikit-learn, numpy or other frameworks have no gradients to integrate."
    )


@dataclass(frozen=True)
class ResolvedTarget:
    """A target fixed at the input: applies the score, then picks one scalar per row.

    Attributes:
        index: The class index per example, shape (batch,), or None for scalar outputs and
            callables.
        score: The name of the score transform.
    """

    index: torch.Tensor | None
    score: str
    fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __call__(self, output: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
        """Scalars for a chunk of rows: ``output`` (rows, ...), ``example`` (rows,) indices."""
        scored = SCORES[self.score](output)
        if self.fn is not None:
            values = self.fn(scored)
            if not isinstance(values, torch.Tensor) or values.shape != (output.shape[0],):
                got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values)
                raise TargetError(
                    f"a callable target must return one scalar per example, shape "
                    f"({output.shape[0]},); it returned {got}"
                )
            return values
        if self.index is None:
            return scored.reshape(output.shape[0])
        return scored.reshape(output.shape[0], -1).gather(1, self.index[example, None]).squeeze(1)


def resolve_target(
    target: TargetSpec, output: torch.Tensor, score: str = "logit"
) -> ResolvedTarget:
    """Check ``target`` against the output at the input and fix it per example.

    Args:
        target: None (the model returns one scalar per example), an int class index, one
            index per example (list or 1-D tensor), ``"predicted"`` (argmax at the input), or a
            callable mapping the (scored) output to one scalar per example.
        output: The model output at the inputs, shape (batch,) or (batch, classes).
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
    """
    if score not in SCORES:
        raise TargetError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    batch = output.shape[0]
    if callable(target) and not isinstance(target, torch.Tensor):
        return ResolvedTarget(index=None, score=score, fn=target)
    n_out = output[0].numel() if output.dim() > 0 and batch > 0 else 1
    flat = output.reshape(batch, -1)
    if target is None:
        if n_out != 1:
            raise TargetError(
                f"the model returns {n_out} outputs per example; say which to attribute with "
                f"target=<index 0..{n_out - 1}>, target=[one index per example] or "
                "target='predicted'"
            )
        return ResolvedTarget(index=None, score=score)
    if isinstance(target, str):
        if target != "predicted":
            raise TargetError(
                f"unknown target {target!r}: the core engine takes an index, a list of indices, "
                "'predicted' or a callable (label names are resolved by integrad.explain)"
            )
        index = flat.argmax(dim=1)
    elif isinstance(target, int) and not isinstance(target, bool):
        index = torch.full((batch,), target, dtype=torch.long, device=output.device)
    else:
        index = torch.as_tensor(target, device=output.device)
        if index.dim() != 1 or index.shape[0] != batch or index.is_floating_point():
            raise TargetError(
                f"target must be an int or one int per example ({batch} here); got "
                f"{tuple(index.shape)} {index.dtype}"
            )
        index = index.long()
    bad = (index < 0) | (index >= n_out)
    if bad.any():
        raise TargetError(
            f"target {index[bad][0].item()} is out of range: the model returns {n_out} outputs "
            f"per example, so valid targets are 0..{n_out - 1}"
        )
    return ResolvedTarget(index=index, score=score)
