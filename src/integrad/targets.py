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


class PerExample:
    """A callable target that also receives the example index of each row.

    ``fn(output, example)`` gets the (scored) output of a chunk of rows and the index of
    the example each row belongs to, shape (rows,), and returns (rows,) or (rows, K).
    Use it when the scalar depends on per-example data (the position of a generated token
    in a padded batch, say).

    Example:
        >>> positions = torch.tensor([3, 5])
        >>> target = PerExample(lambda out, ex: out[torch.arange(len(ex)), positions[ex], 0])
    """

    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        self.fn = fn

    def __call__(self, output: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
        return self.fn(output, example)


@dataclass(frozen=True)
class ResolvedTarget:
    """A target fixed at the input: applies the score, then picks K scalars per row.

    Attributes:
        index: Class indices per example, shape (batch, K), or None for scalar outputs and
            callables.
        score: The name of the score transform.
        n_targets: K, the number of scalars attributed per example (they share forwards).
        multi: Whether the user asked for several targets per example (results then keep
            a K dimension after the batch).
    """

    index: torch.Tensor | None
    score: str
    n_targets: int = 1
    multi: bool = False
    fn: Callable[..., torch.Tensor] | None = None

    def __call__(self, output: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
        """Scalars for a chunk of rows, (rows, K): ``output`` (rows, ...), ``example`` (rows,)."""
        scored = SCORES[self.score](output)
        rows = output.shape[0]
        if self.fn is not None:
            return _call_fn(self.fn, scored, example).reshape(rows, -1)
        if self.index is None:
            return scored.reshape(rows, 1)
        return scored.reshape(rows, -1).gather(1, self.index[example])

    def repeated(self, source: torch.Tensor) -> ResolvedTarget:
        """The same target for an expanded batch whose example ``i`` copies ``source[i]``."""
        fn = self.fn
        if isinstance(fn, PerExample):
            inner = fn.fn
            fn = PerExample(lambda output, example: inner(output, source[example]))
        index = None if self.index is None else self.index[source]
        return ResolvedTarget(index, self.score, self.n_targets, self.multi, fn)

    def squeeze(self, value: torch.Tensor) -> torch.Tensor:
        """Drop the K dimension (dim 1) unless several targets were asked for."""
        return value if self.multi else value.squeeze(1)


def resolve_target(
    target: TargetSpec, output: torch.Tensor, score: str = "logit"
) -> ResolvedTarget:
    """Check ``target`` against the output at the input and fix it per example.

    Args:
        target: None (the model returns one scalar per example), an int class index, one
            index per example (list or 1-D tensor), several per example (a (batch, K)
            tensor or nested list: K attributions sharing every forward pass),
            ``"predicted"`` (argmax at the input), or a callable mapping the (scored) output
            to (batch,) or (batch, K) scalars (wrap it in :class:`PerExample` to receive the
            example indices too).
        output: The model output at the inputs, shape (batch,) or (batch, classes).
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
    """
    if score not in SCORES:
        raise TargetError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    batch = output.shape[0]
    if callable(target) and not isinstance(target, torch.Tensor):
        examples = torch.arange(batch, device=output.device)
        values = _call_fn(target, SCORES[score](output), examples)
        multi = values.dim() == 2
        return ResolvedTarget(None, score, values.shape[1] if multi else 1, multi, target)
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
        if index.dim() not in (1, 2) or index.shape[0] != batch or index.is_floating_point():
            raise TargetError(
                f"target must be an int, one int per example ({batch} here) or a ({batch}, K) "
                f"table of ints; got {tuple(index.shape)} {index.dtype}"
            )
        index = index.long()
    bad = (index < 0) | (index >= n_out)
    if bad.any():
        raise TargetError(
            f"target {index[bad][0].item()} is out of range: the model returns {n_out} outputs "
            f"per example, so valid targets are 0..{n_out - 1}"
        )
    multi = index.dim() == 2
    index = index if multi else index[:, None]
    return ResolvedTarget(index=index, score=score, n_targets=index.shape[1], multi=multi)


def _call_fn(
    fn: Callable[..., torch.Tensor], scored: torch.Tensor, example: torch.Tensor
) -> torch.Tensor:
    """Call a callable target and check it gave (rows,) or (rows, K) scalars."""
    values = fn(scored, example) if isinstance(fn, PerExample) else fn(scored)
    rows = scored.shape[0]
    if (
        not isinstance(values, torch.Tensor)
        or values.dim() not in (1, 2)
        or values.shape[0] != rows
    ):
        got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        raise TargetError(
            f"a callable target must return one scalar per example, shape ({rows},), or K per "
            f"example, shape ({rows}, K); it returned {got}"
        )
    return values
