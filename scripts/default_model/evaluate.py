"""Scores a trained model: accuracy, balanced accuracy, calibration on neutral and empty inputs."""

from __future__ import annotations

import torch
from default_model.features import upper_pooled
from torch import nn
from transformers import PreTrainedModel

BATCH_SIZE = 128


def logits(
    encoder: PreTrainedModel, head: nn.Linear, frozen_layers: int, states: list[torch.Tensor]
) -> torch.Tensor:
    """The 1-logit ``z`` (P(POSITIVE) = sigmoid(z)) of each row, shape ``(n,)``, in eval mode.

    Rows are batched by length so little padding is run.
    """
    order = sorted(range(len(states)), key=lambda index: len(states[index]))
    z = torch.empty(len(states))
    with torch.inference_mode():
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            pooled = upper_pooled(encoder, frozen_layers, [states[i] for i in batch])
            z[batch] = head(pooled)[:, 0]
    return z


def classification(z: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy, balanced accuracy (mean per-class recall), majority rate and labelled loss."""
    predicted = (z > 0).long()
    recalls = [(predicted[labels == c] == c).double().mean().item() for c in (0, 1)]
    positives = labels.double().mean().item()
    loss = nn.functional.binary_cross_entropy_with_logits(z, labels.to(z.dtype)).item()
    return {
        "accuracy": (predicted == labels).double().mean().item(),
        "balanced_accuracy": sum(recalls) / 2,
        "majority_class_rate": max(positives, 1 - positives),
        "labelled_loss": loss,
    }


def neutrality(z: torch.Tensor) -> dict[str, float]:
    """How close to P(POSITIVE) = 0.5 rows are: loss against 0.5 and mean ``|p - 0.5|``."""
    half = torch.full_like(z, 0.5)
    return {
        "loss": nn.functional.binary_cross_entropy_with_logits(z, half).item(),
        "mean_abs_margin": (z.sigmoid() - 0.5).abs().mean().item(),
    }


def rounded(figures: dict, places: int = 4) -> dict:
    """``figures`` with every float rounded (nested dicts too), for config.json."""
    return {
        key: rounded(value, places)
        if isinstance(value, dict)
        else round(value, places)
        if isinstance(value, float)
        else value
        for key, value in figures.items()
    }
