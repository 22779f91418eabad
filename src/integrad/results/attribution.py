"""The core engine's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from integrad.results.base import ResultMixin


@dataclass(frozen=True)
class Attribution(ResultMixin):
    """What :func:`integrad.attribute` returns.

    Attributes:
        attributions: Same structure as the inputs (tensor, tuple or dict), or the layer's
            output shape when ``layer=`` is one module.
        delta: Per-example signed completeness error, sum(attributions) - (F(x) - F(x')), (batch,).
        n_evals: Gradient evaluations made per example, (batch,).
        output: F(x), the attributed score at the input, (batch,).
        baseline_output: F(x'), the attributed score at the baseline, (batch,).
        target: The class index attributed per example, or None (scalar output or callable).
        method: The integration rule.
        n_steps: Points per example for fixed rules; None for adaptive integration.
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
        error_estimate: Estimated relative L2 error of each example's attributions (adaptive
            integration), or None.
        std: With ``noise=``, the per-feature standard deviation of the attributions across
            the noisy samples (same structure as ``attributions``); otherwise None.
        samples: With ``noise=``, each noisy copy's attributions, with a sample dimension
            after the batch: (batch, n_samples, ...), so sums over features (per token, per
            column) get their exact spread; otherwise None.
    """

    attributions: Any
    delta: torch.Tensor
    n_evals: torch.Tensor
    output: torch.Tensor
    baseline_output: torch.Tensor
    target: torch.Tensor | None
    method: str
    n_steps: int | None
    score: str = "logit"
    error_estimate: torch.Tensor | None = None
    std: Any = None
    samples: Any = None
