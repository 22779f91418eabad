"""The core engine's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from integrad.results.base import BatchExplanation


@dataclass(frozen=True, eq=False, kw_only=True)
class Attribution(BatchExplanation):
    """What :func:`integrad.attribute` returns.

    The shared fields (``output``, ``baseline_output``, ``delta``, ``n_evals``,
    ``error_estimate``, ``options``) are described in
    :class:`~integrad.results.base.BatchExplanation`; with K targets per example they are
    (batch, K).

    Attributes:
        attributions: Same structure as the inputs (tensor, tuple or dict); for ``layer=``
            one module, its output's shape (a tuple for a layer with several tensors); for a
            list of modules, a list with one entry per module.
        target: The flat output index attributed per example, (batch,) or (batch, K); None
            for callable targets.
        std: With ``noise``, the per-feature standard deviation of the attributions across
            the noisy samples (same structure as ``attributions``); otherwise None.
        samples: With ``noise``, each noisy copy's attributions, with a sample dimension
            after the batch: (batch, n_samples, ...), so sums over features (per token, per
            column) get their exact spread; otherwise None.
        model_output: The model's whole output at the inputs, (batch, ...), detached.
        baseline_model_output: The model's whole output at the baselines (the path's start),
            (batch, ...): how the model reads "no information".
        multiply_by_inputs: False when ``attributions`` are the path-integrated gradients
            without the (input - baseline) factor; ``delta`` is the completeness error of
            the multiplied attributions either way.
    """

    attributions: Any
    target: torch.Tensor | None = None
    std: Any = None
    samples: Any = None
    model_output: torch.Tensor | None = None
    baseline_model_output: torch.Tensor | None = None
    multiply_by_inputs: bool = True

    def plot(self, index: int | None = None, *, ax: Any = None) -> Any:
        """Bars of one example's attributions (0 when None), one row per attributed tensor."""
        from integrad.render.plot import plot_attribution

        return plot_attribution(self, self._index(0 if index is None else index), ax=ax)

    def to_html(self) -> str:
        """A table of each example's completeness: F(x), F(x'), delta and evaluations."""
        from integrad.render.html import attribution_html

        return attribution_html(self)
