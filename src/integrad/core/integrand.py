"""The integrand of IG: the gradient of the target along the straight path, row by row.

A *row* is one (example, alpha) pair. The engine asks for weighted sums of gradients over
arbitrary sets of rows, so fixed rules (the same alphas for every example) and adaptive
rules (alphas that differ per example and per round) share one evaluation loop. Rows are
evaluated in chunks of at most ``chunk_rows``; each chunk's gradients are folded into the
sums at once, so memory does not grow with the number of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from integrad.core.layers import LayerTaps
from integrad.core.path import Point
from integrad.core.structure import Structure
from integrad.errors import ModelError
from integrad.targets import ResolvedTarget, select_output


class Integrand:
    """Evaluates a model on interpolated rows and sums their weighted gradients."""

    def __init__(
        self,
        forward: Callable[..., Any],
        inputs: list[torch.Tensor],
        structure: Structure,
        points: list[Point],
        taps: LayerTaps,
        forward_args: tuple[Any, ...],
        forward_kwargs: dict[str, Any],
        target: ResolvedTarget,
    ) -> None:
        self.forward = forward
        self.inputs = inputs
        self.structure = structure
        self.points = points
        self.taps = taps
        self.args = forward_args
        self.kwargs = forward_kwargs
        self.target = target
        self.batch = inputs[0].shape[0]
        #: Per point, whether any gradient reached it (False: the output does not use it).
        self.reached = [False] * len(points)

    def subset(self, examples: torch.Tensor) -> Integrand:
        """The same integrand over some of the examples only, renumbered from 0."""
        points = [
            Point(p.position, p.layer, p.start[examples], p.delta[examples]) for p in self.points
        ]
        return Integrand(
            self.forward,
            [x[examples] for x in self.inputs],
            self.structure,
            points,
            self.taps,
            tuple(_rows(v, examples, self.batch) for v in self.args),
            {k: _rows(v, examples, self.batch) for k, v in self.kwargs.items()},
            self.target.repeated(examples),
        )

    def _scores(
        self, example: torch.Tensor, alpha: torch.Tensor, grad: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Target scores (rows, K) at the given rows and the interpolated tensors they used."""
        output, leaves = self._outputs(example, alpha, grad)
        return self.target(output, example), leaves

    def _outputs(
        self, example: torch.Tensor, alpha: torch.Tensor, grad: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The model's output (rows, ...) at the given rows and the interpolated tensors."""
        values: list[Any] = [x.index_select(0, example) for x in self.inputs]
        replacements: list[list[torch.Tensor]] = [[] for _ in self.taps.layers]
        leaves = []
        for point in self.points:
            shape = (-1,) + (1,) * (point.start.dim() - 1)
            a = alpha.to(point.start.dtype).view(shape)
            # (rows, *shape): baseline + alpha * (input - baseline)
            z = point.start.index_select(0, example) + a * point.delta.index_select(0, example)
            if grad:
                z.requires_grad_(True)
            leaves.append(z)
            if point.layer is None:
                values[point.position] = z  # type: ignore[index]
            else:
                replacements[point.layer[0]].append(z)
        args = tuple(_rows(v, example, self.batch) for v in self.args)
        kwargs = {k: _rows(v, example, self.batch) for k, v in self.kwargs.items()}
        if self.taps.layers:
            self.taps.substituting(replacements)
        with torch.set_grad_enabled(grad):
            try:
                raw = self.structure.call(self.forward, values, args, kwargs)
            except RuntimeError as err:
                if "numpy" in str(err).lower():
                    raise ModelError(_not_differentiable(str(err))) from err
                raise
            if self.taps.layers:
                self.taps.check_all_called()
            return select_output(raw), leaves

    def values(self, example: torch.Tensor, alpha: torch.Tensor, chunk_rows: int) -> torch.Tensor:
        """Target scores at the given rows, without gradients: shape (rows, K)."""
        return self.outputs(example, alpha, chunk_rows)[0]

    def outputs(
        self, example: torch.Tensor, alpha: torch.Tensor, chunk_rows: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Target scores (rows, K) and the model's whole output (rows, ...), without gradients."""
        scores, outputs = [], []
        for lo in range(0, example.shape[0], chunk_rows):
            sl = slice(lo, lo + chunk_rows)
            output = self._outputs(example[sl], alpha[sl], grad=False)[0].detach()
            scores.append(self.target(output, example[sl]).detach())
            outputs.append(output)
        return torch.cat(scores), torch.cat(outputs)

    def weighted_gradient_sums(
        self,
        example: torch.Tensor,
        alpha: torch.Tensor,
        weights: torch.Tensor,
        group: torch.Tensor,
        n_groups: int,
        chunk_rows: int,
        dtype: torch.dtype,
    ) -> list[torch.Tensor]:
        """Sums of ``weights * gradient`` over rows, grouped.

        Args:
            example: Example index of each row, (rows,).
            alpha: Path position of each row, (rows,).
            weights: Quadrature weights of each row, (rows, n_weights): several weight sets
                (nested rules of several sizes, say) share the same gradients.
            group: The group each row is summed into, (rows,): the example for fixed rules,
                the interval for adaptive ones.
            n_groups: Number of groups.
            chunk_rows: Most rows in one forward/backward.
            dtype: Accumulation dtype.

        Returns:
            One tensor per point, (n_groups, n_weights, K, *shape) for K targets.
        """
        n_weights, k = weights.shape[1], self.target.n_targets
        sums = [
            torch.zeros(
                (n_groups, n_weights, k, *p.start.shape[1:]), dtype=dtype, device=p.start.device
            )
            for p in self.points
        ]
        for lo in range(0, example.shape[0], chunk_rows):
            sl = slice(lo, lo + chunk_rows)
            scores, leaves = self._scores(example[sl], alpha[sl], grad=True)
            if not scores.requires_grad:
                raise ModelError(_not_differentiable("the output does not require grad"))
            grads = _per_target_gradients(scores, leaves)
            if all(g is None for g in grads):
                raise ModelError(_not_differentiable("no attributed tensor reaches the output"))
            w = weights[sl].to(dtype)
            for i, (total, g, leaf) in enumerate(zip(sums, grads, leaves, strict=True)):
                if g is None:  # this tensor does not influence the output: zero gradient
                    continue
                self.reached[i] = True
                g = g.to(dtype)
                shape = (-1,) + (1,) * leaf.dim()
                # One weight set at a time: (chunk, K, *shape) folded into its groups, so the
                # temporaries stay the size of one chunk's gradients whatever n_weights is.
                for j in range(n_weights):
                    total[:, j].index_add_(0, group[sl], g * w[:, j].view(shape))
        return sums

    def saved_bytes_per_row(self, fixed: set[int]) -> int:
        """Bytes autograd keeps for backward per row (the memory probe): one row is run with
        the saved-tensor hooks, and storages in ``fixed`` (the model's parameters and
        buffers, by data pointer), which do not grow with the rows, are left out."""
        storages: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            storage = t.untyped_storage()
            if storage.data_ptr() not in fixed:
                storages[storage.data_ptr()] = storage.nbytes()
            return t

        example = torch.zeros(1, dtype=torch.long, device=self.inputs[0].device)
        alpha = torch.full((1,), 0.5, device=self.inputs[0].device)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            scores, leaves = self._scores(example, alpha, grad=True)
        del scores, leaves
        return sum(storages.values())

    def row_signature(self) -> tuple[Any, ...]:
        """What the cost of a row depends on: the shapes and dtypes of one row's tensors."""
        tensors = [p.start for p in self.points] + list(self.inputs)
        tensors += [v for v in (*self.args, *self.kwargs.values()) if isinstance(v, torch.Tensor)]
        return tuple((tuple(t.shape[1:]), t.dtype, t.device.type) for t in tensors)


def _per_target_gradients(
    scores: torch.Tensor, leaves: list[torch.Tensor]
) -> list[torch.Tensor | None]:
    """Gradients of each of K scores per row: (rows, K, *shape) per leaf.

    Rows are independent, so the gradient of the sum over rows gives every row's own
    gradient. K targets share the forward pass; each needs its own backward.
    """
    k = scores.shape[1]
    if k == 1:  # one target: views, no copies on the per-chunk path
        grads = torch.autograd.grad(scores.sum(), leaves, allow_unused=True)
        return [None if g is None else g.unsqueeze(1) for g in grads]
    per_target = [
        torch.autograd.grad(scores[:, j].sum(), leaves, allow_unused=True, retain_graph=j < k - 1)
        for j in range(k)
    ]
    return [
        None if grads[0] is None else torch.stack(grads, dim=1)
        for grads in zip(*per_target, strict=True)
    ]


def _rows(value: Any, example: torch.Tensor, batch: int) -> Any:
    """A forward keyword repeated to the rows: tensors with a batch dimension are indexed."""
    if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch:
        return value.index_select(0, example)
    return value


def _not_differentiable(detail: str) -> str:
    return (
        f"the model output does not depend on the attributed inputs through torch operations "
        f"({detail}). IG needs gradients: the forward must stay in torch, without .detach(), "
        ".numpy(), .item() or torch.no_grad(), and models from scikit-learn or other frameworks "
        "cannot be attributed. Check that the attributed inputs or layer feed the output."
    )


def root_module(forward: Callable[..., Any]) -> nn.Module | None:
    """The module behind ``forward`` (itself, or the owner of a bound method), if any."""
    if isinstance(forward, nn.Module):
        return forward
    owner = getattr(forward, "__self__", None)
    return owner if isinstance(owner, nn.Module) else None
