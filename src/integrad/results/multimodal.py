"""What :func:`integrad.explain_multimodal` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from integrad.errors import InputError
from integrad.results.base import ClassifierBatch

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


@dataclass(frozen=True, eq=False, kw_only=True)
class MultimodalExplanation(ClassifierBatch):
    """Per-feature scores of a multi-input model and each modality's share of the output.

    The fields every batch result shares (``output``, ``baseline_output``, ``delta`` across
    all inputs together, ``n_evals``, ``error_estimate``, ``baseline``, ``options``) are
    described in :class:`~integrad.results.base.BatchExplanation`, and ``target``,
    ``predicted``, ``probabilities``, ``labels`` in
    :class:`~integrad.results.base.ClassifierBatch`.

    Attributes:
        features: Per example, its features in input order (masked-out positions omitted;
            their scores, zero for a model that respects the mask, still count in totals).
        scores: Per input, the reduced attributions (N, *input.shape[1:]).
        modalities: Input name -> modality.
        modality_totals: Per modality, the sum of its scores, (N,).
        shares: Per modality, its total / (F(x) - F(baseline)), (N,); nan where the output
            did not move. They add up to 1 - delta / (F(x) - F(baseline)).
        fixed: Inputs held at their value (masks), not attributed.
        std: Per input, noise-averaging standard deviation, or None.

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
    std: dict[str, torch.Tensor] | None = None

    def to_frame(self) -> pd.DataFrame:
        """All features of all examples as one long table (example, modality, name, ...)."""
        rows = [
            {"example": i, **{k: getattr(f, k) for k in FeatureScore.__dataclass_fields__}}
            for i, example in enumerate(self.features)
            for f in example
        ]
        return pd.DataFrame(rows)

    def plot(self, index: int | None = None, *, ax: Any = None, max_features: int = 12) -> Figure:
        """One example (0 when None): modality shares, then each modality's features.

        Args:
            index: The example.
            ax: Not used: the shares and each modality get axes of their own.
            max_features: Most features shown per modality.
        """
        from integrad.render.multimodal import example_figure

        if ax is not None:
            raise InputError(
                "MultimodalExplanation.plot() draws the shares and each modality into axes of "
                "its own; use exp.to_frame() to draw into yours"
            )
        return example_figure(self, self._index(0 if index is None else index), max_features)

    def to_html(self, max_examples: int = 5) -> str:
        """A self-contained fragment: shares and colored features per example."""
        from integrad.render.multimodal import multimodal_html

        return multimodal_html(self, max_examples)
