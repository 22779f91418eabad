"""Result objects: frozen dataclasses that carry attributions and how they were made."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch


def jsonable(value: Any) -> Any:
    """Tensors and arrays become nested lists; containers are converted recursively."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class ResultMixin:
    """``to_dict`` and ``to_json`` for every result dataclass, defined once."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python data (tensors become lists)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def to_json(self, **kwargs: Any) -> str:
        """``to_dict()`` as a JSON string; keyword arguments go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)


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
