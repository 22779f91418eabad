"""What scalar is attributed: the one place where targets and scores are resolved.

A target is resolved once, at the input, into a :class:`ResolvedTarget` that the engine
applies to every interpolated row. Scores are transforms of the model output applied
before the target selects a class: ``"logit"`` (the output itself), ``"probability"``
(softmax over the last dimension) and ``"log_prob"`` (log-softmax).

The forms a target may take, the same in every function:

- ``None`` or ``"predicted"``: the model's prediction (the highest output of each example;
  for a model with one output per example, that output);
- an int, or a label name when the class names are known: that class for every example;
- a tuple of ints: one index into a multi-dimensional output, e.g. ``(1, 2)`` picks
  ``output[:, 1, 2]``, for every example;
- a list or 1-D tensor: one class (int, label, tuple, or None for the prediction) per
  example;
- a (batch, K) tensor or nested list of ints: K targets per example, which share every
  forward pass (results then keep a K dimension after the batch);
- a callable from the (scored) output to (batch,) or (batch, K) scalars, or a
  :class:`PerExample` callable that also receives each row's example index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from integrad.errors import ModelError, TargetError
from integrad.options import score_name

if TYPE_CHECKING:  # torch loads on first use: the command line checks labels without it
    import torch

TargetSpec: TypeAlias = (
    "int | str | tuple[int, ...] | Sequence[Any] | torch.Tensor"
    " | Callable[[torch.Tensor], torch.Tensor] | None"
)

SCORES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "logit": lambda out: out,
    "probability": lambda out: out.softmax(-1),
    "log_prob": lambda out: out.log_softmax(-1),
}


def select_output(raw: Any) -> torch.Tensor:
    """The output tensor of a forward call: a tensor, the first item of a tuple, or ``.logits``."""
    import torch

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
        index: Flat indices into each example's output, (batch, K), or None for callables.
        score: The name of the score transform.
        n_targets: K, the number of scalars attributed per example (they share forwards).
        multi: Whether several targets per example were asked for (results then keep a K
            dimension after the batch).
        fn: The callable target, if one was given.
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
        return scored.reshape(rows, -1).gather(1, self.index[example])  # type: ignore[index]

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
    target: TargetSpec,
    output: torch.Tensor,
    score: str = "logit",
    labels: Sequence[str] | None = None,
) -> ResolvedTarget:
    """Check ``target`` against the output at the input and fix it per example.

    Args:
        target: See the module docstring for the accepted forms.
        output: The model output at the inputs, (batch, ...).
        score: ``"logit"``, ``"probability"`` or ``"log_prob"`` (aliases accepted).
        labels: Names of the outputs (the classes), so targets may be given by name.

    Raises:
        TargetError: A target out of range, an unknown label, a tuple of the wrong length,
            or a list whose length is not the batch size; the message lists what is valid.
    """
    import torch

    score = score_name(score)
    batch = output.shape[0]
    if callable(target) and not isinstance(target, torch.Tensor):
        examples = torch.arange(batch, device=output.device)
        values = _call_fn(target, SCORES[score](output), examples)
        multi = values.dim() == 2
        return ResolvedTarget(None, score, values.shape[1] if multi else 1, multi, target)
    shape = tuple(output.shape[1:])
    labels = None if labels is None else [str(label) for label in labels]
    if target is None or (isinstance(target, str) and target == "predicted"):
        index = output.reshape(batch, -1).argmax(dim=1)[:, None]
        return ResolvedTarget(index=index, score=score)
    if isinstance(target, torch.Tensor):
        if target.is_floating_point() or target.dim() > 2:
            raise TargetError(
                f"a target tensor must hold integer class indices, one per example (batch,) "
                f"or K per example (batch, K); got {tuple(target.shape)} {target.dtype}"
            )
        target = target.reshape(batch, -1).tolist() if target.dim() == 2 else target.tolist()
        if isinstance(target, int):  # a 0-d tensor
            target = [target] * batch
    if _is_single(target):
        flat = _flat_index(target, shape, labels)
        index = torch.full((batch, 1), flat, dtype=torch.long, device=output.device)
        return ResolvedTarget(index=index, score=score)
    if not isinstance(target, Sequence) or isinstance(target, str):
        raise TargetError(_forms_message(target, batch))
    items = list(target)
    if len(items) != batch:
        raise TargetError(
            f"target gives {len(items)} entries for {batch} examples; a list or 1-D tensor "
            "means one target per example. For one index into a multi-dimensional output "
            "for every example, pass a tuple, e.g. target=(1, 2)"
        )
    multi = bool(items) and all(isinstance(t, list) for t in items)
    rows = [t if multi else [t] for t in items]
    if len({len(r) for r in rows}) > 1 or not all(rows):
        raise TargetError("each example needs the same number of targets (K >= 1)")
    predicted = output.reshape(batch, -1).argmax(dim=1).tolist()
    flat_rows = [
        [predicted[i] if t is None else _flat_index(t, shape, labels) for t in r]
        for i, r in enumerate(rows)
    ]
    index = torch.tensor(flat_rows, dtype=torch.long, device=output.device)
    return ResolvedTarget(index=index, score=score, n_targets=index.shape[1], multi=multi)


def check_classes(target: Any, labels: Sequence[str]) -> None:
    """Check class names and indices in ``target`` against a classifier's ``labels`` before
    the model runs (so a typo is reported at once); other forms are checked later."""
    items = [target] if isinstance(target, (str, int)) else target
    if not isinstance(items, (list, tuple)) or isinstance(target, tuple):
        return
    for item in items:
        if isinstance(item, str) or _is_int(item):
            _flat_index(item, (len(labels),), [str(label) for label in labels])


def _is_single(target: Any) -> bool:
    """One target for every example: an int, a label or a tuple of ints."""
    return (
        _is_int(target)
        or isinstance(target, str)
        or (isinstance(target, tuple) and all(_is_int(t) for t in target))
    )


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0 and value.dtype.kind in "iu"


def _flat_index(target: Any, shape: tuple[int, ...], labels: list[str] | None) -> int:
    """One target as a flat index into an example's output of shape ``shape``."""
    n_out = 1
    for size in shape:
        n_out *= size
    if isinstance(target, str):
        return _label_index(target, labels, n_out)
    if isinstance(target, tuple):
        if len(target) != len(shape):
            raise TargetError(
                f"target {target} indexes {len(target)} dimension(s), but each example's output "
                f"has shape {shape}; give one index per output dimension"
            )
        flat = 0
        for index, size in zip(target, shape, strict=True):
            if not 0 <= int(index) < size:
                raise TargetError(
                    f"target {target} is out of range for outputs of shape {shape} per example"
                )
            flat = flat * size + int(index)
        return flat
    if not _is_int(target):
        raise TargetError(
            f"a target must be a class index, a label name or a tuple index; got {target!r}"
        )
    value = int(target)
    if not 0 <= value < n_out:
        named = (
            f" ({', '.join(f'{i}={name}' for i, name in enumerate(labels))})"
            if labels and len(labels) == n_out
            else ""
        )
        raise TargetError(
            f"target {value} is out of range: the model returns {n_out} outputs per example, "
            f"so valid targets are 0..{n_out - 1}{named}"
        )
    return value


def _label_index(target: str, labels: list[str] | None, n_out: int) -> int:
    if labels:
        if target in labels:
            return labels.index(target)
        folded = [i for i, name in enumerate(labels) if name.lower() == target.lower()]
        if len(folded) == 1:
            return folded[0]
        raise TargetError(
            f"unknown label {target!r}; the model's labels are: {', '.join(labels)} (or use a "
            f"class index 0..{n_out - 1})"
        )
    raise TargetError(
        f"target {target!r} is a label name, but the model's class names are not known; pass "
        f"labels=[...] or a class index 0..{n_out - 1}"
    )


def _forms_message(target: Any, batch: int) -> str:
    return (
        f"target must be None (the prediction), a class index or label, a tuple index, one of "
        f"those per example ({batch} here), a (batch, K) table, or a callable; got {target!r}"
    )


def _call_fn(
    fn: Callable[..., torch.Tensor], scored: torch.Tensor, example: torch.Tensor
) -> torch.Tensor:
    """Call a callable target and check it gave (rows,) or (rows, K) scalars."""
    import torch

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
