"""What :func:`integrad.explain_multimodal` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from integrad.results.base import ResultMixin, jsonable

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class FeatureScore:
    """One token, number or category of one example.

    Attributes:
        input: The input it belongs to (``input_ids``, ``numbers``...).
        modality: The modality it is counted in.
        position: Its position along the input's dimension 1.
        name: What it is (a token, a column name).
        value: How its value reads (a number, a category), or "" for tokens.
        score: Its attribution (summed over the embedding dimension for layered inputs).
        std: Noise-averaging standard deviation (an upper bound after summing), or None.
    """

    input: str
    modality: str
    position: int
    name: str
    value: str
    score: float
    std: float | None = None


@dataclass(frozen=True)
class MultimodalExplanation(ResultMixin):
    """Per-feature scores of a multi-input model and each modality's share of the output.

    Attributes:
        features: Per example, its features in input order (masked-out positions omitted;
            their scores, zero for a model that respects the mask, still count in totals).
        scores: Per input, the reduced attributions (N, *input.shape[1:]).
        modalities: Input name -> modality.
        modality_totals: Per modality, the sum of its scores, (N,).
        shares: Per modality, its total / (F(x) - F(baseline)), (N,); nan where the output
            did not move. They add up to 1 - delta / (F(x) - F(baseline)).
        fixed: Inputs held at their value (masks), not attributed.
        target: The class attributed per example, or None for a scalar output.
        target_labels: Names of the targets.
        predicted: The top class per example, (N,).
        probabilities: Softmax of the output, (N, classes), or None.
        labels: The class names given, if any.
        output: F(x), (N,).
        baseline_output: F(baseline), (N,).
        delta: Completeness error across all inputs together, (N,).
        n_evals: Gradient evaluations per example, (N,).
        method: The integration rule.
        n_steps: Points per path, or None (adaptive).
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
        std: Per input, noise-averaging standard deviation, or None.
        error_estimate: Estimated relative integration error (adaptive), or None.

    Example:
        >>> exp.to_frame().query("modality == 'numbers'")
        >>> exp.plot(0).savefig("example0.png")
    """

    features: list[list[FeatureScore]]
    scores: dict[str, torch.Tensor]
    modalities: dict[str, str]
    modality_totals: dict[str, torch.Tensor]
    shares: dict[str, torch.Tensor]
    fixed: list[str]
    target: torch.Tensor | None
    target_labels: list[str] | None
    predicted: torch.Tensor
    probabilities: torch.Tensor | None
    labels: list[str] | None
    output: torch.Tensor
    baseline_output: torch.Tensor
    delta: torch.Tensor
    n_evals: torch.Tensor
    method: str
    n_steps: int | None
    score: str
    std: dict[str, torch.Tensor] | None = None
    error_estimate: torch.Tensor | None = None

    def to_frame(self) -> pd.DataFrame:
        """All features of all examples as one long table (example, modality, name, ...)."""
        rows = [
            {"example": i, **{k: getattr(f, k) for k in FeatureScore.__dataclass_fields__}}
            for i, example in enumerate(self.features)
            for f in example
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data; features as lists of dicts."""
        out = super().to_dict()  # features are not plain data yet: redo them below
        out["features"] = [[asdict(f) for f in example] for example in self.features]
        return jsonable(out)

    def plot(self, index: int = 0, max_features: int = 12) -> Figure:
        """One example: modality shares, then each modality's features as bars."""
        from integrad.render.multimodal import example_figure

        self._check(index)
        return example_figure(self, index, max_features)

    def to_html(self, max_examples: int = 5) -> str:
        """A self-contained fragment: shares and colored features per example."""
        from integrad.render.multimodal import multimodal_html

        return multimodal_html(self, max_examples)

    def _check(self, index: int) -> None:
        from integrad.errors import InputError

        n = len(self.features)
        if not isinstance(index, int) or not -n <= index < n:
            raise InputError(f"example {index!r} is out of range: there are {n} examples")
