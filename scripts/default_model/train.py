"""Fits the LoRA adapter (through ``peft``) and the head on cached lower-layer states.

The head is one logit ``z = w . pooled + c`` read as ``P(POSITIVE) = sigmoid(z)`` and shipped as
the 2-class layer ``logits = (-z / 2, z / 2)``: the same probabilities as any 2-class head, but
with no part shared by both logits. A free 2-class head may move both logits together, which
changes neither the prediction nor the loss, yet Integrated Gradients of one class's logit then
credit whatever words move that shared part (often function words).

The loss, per batch (``bce`` is the binary cross-entropy of ``sigmoid(z)`` against a target)::

    mean(class_weight * bce(labelled rows, label))             # POSITIVE / NEGATIVE tweets
    + neutral_weight * mean(bce(neutral rows, 0.5))            # NEUTRAL tweets
    + baseline_weight * mean(bce(content-free inputs, 0.5))    # [CLS] [PAD]*n [SEP], ...

Class weights ``n / (2 * n_class)`` make both classes weigh the same in total (the corpus is
about 70% NEGATIVE).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import torch
from default_model.features import upper_pooled
from default_model.settings import Settings
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import Linear as LoraLinear
from torch import nn
from transformers import PreTrainedModel


@dataclass
class Rows:
    """Training rows as cached lower-layer states with soft targets and loss weights."""

    states: list[torch.Tensor]
    targets: torch.Tensor  # (n,) P(POSITIVE) the row should get: 0, 1 or 0.5
    weights: torch.Tensor  # (n,) loss weight of each row within its group

    def __len__(self) -> int:
        return len(self.states)


def add_lora(encoder: PreTrainedModel, settings: Settings) -> nn.Module:
    """Wraps ``encoder`` in peft LoRA layers on the unfrozen layers; only they train.

    peft replaces the targeted ``nn.Linear`` modules of ``encoder`` in place, so ``encoder``
    itself (and :func:`default_model.features.upper_pooled` on it) runs the adapted layers.
    """
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=0.0,
        target_modules=list(settings.targets),
        layers_to_transform=list(range(settings.frozen_layers, encoder.config.num_hidden_layers)),
        bias="none",
    )
    return get_peft_model(encoder, config)


def lora_tensors(encoder: PreTrainedModel) -> tuple[dict[str, torch.Tensor], float]:
    """The adapter as ``{"<layer path>.lora_A": (rank, in), "<layer path>.lora_B": (out, rank)}``.

    Paths are relative to ``encoder`` (what ``integrad.models.default.merge_lora`` expects).

    Returns:
        The tensors and LoRA's scaling (``alpha / rank``), the same for every layer.
    """
    tensors, scalings = {}, set()
    for name, module in encoder.named_modules():
        if isinstance(module, LoraLinear):
            tensors[f"{name}.lora_A"] = module.lora_A["default"].weight.detach().clone()
            tensors[f"{name}.lora_B"] = module.lora_B["default"].weight.detach().clone()
            scalings.add(module.scaling["default"])
    (scaling,) = scalings
    return tensors, scaling


def length_batches(rows: Rows, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Row indices in batches of similar length, the batch order shuffled by ``rng``."""
    order = sorted(range(len(rows)), key=lambda index: len(rows.states[index]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def soft_bce(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-row binary cross-entropy of ``sigmoid(z)`` against soft targets, shape ``(n,)``."""
    return nn.functional.binary_cross_entropy_with_logits(z, target, reduction="none")


def fit(
    encoder: PreTrainedModel,
    head: nn.Linear,
    labelled: Rows,
    neutral: Rows,
    baselines: list[torch.Tensor],
    settings: Settings,
    report: Callable[[int], dict] | None = None,
) -> list[dict[str, float]]:
    """Trains the LoRA layers of ``encoder`` and the 1-logit ``head`` in place.

    Labelled and neutral rows are batched separately by length and interleaved (a neutral batch
    is as large as the labelled one times the neutral share of rows), so each optimiser step
    sees both groups and their mean losses weigh as ``Settings`` says.

    Args:
        encoder: The peft-wrapped encoder's base model (LoRA modules in place).
        head: ``nn.Linear(hidden, 1)``.
        labelled: POSITIVE/NEGATIVE rows (targets 0/1, class weights).
        neutral: NEUTRAL rows (targets 0.5, weights 1).
        baselines: Lower-layer states of the content-free inputs (targets 0.5).
        settings: The run's settings.
        report: Called as ``report(epoch)`` after each epoch; its dict is logged and returned.

    Returns:
        What ``report`` returned for each epoch.
    """
    rng = random.Random(settings.seed)
    trainable = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
    optimizer = torch.optim.AdamW(
        trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    neutral_batch = max(1, round(settings.batch_size * len(neutral) / len(labelled)))
    steps_per_epoch = math.ceil(len(labelled) / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    warmup = max(1, round(settings.warmup * total))

    def schedule(step: int) -> float:
        return (step + 1) / warmup if step < warmup else max(0.0, (total - step) / (total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = []
    for epoch in range(settings.epochs):
        encoder.train()
        label_batches = length_batches(labelled, settings.batch_size, rng)
        neutral_batches = length_batches(neutral, neutral_batch, rng)
        running = 0.0
        for step, batch in enumerate(label_batches):
            z = head(
                upper_pooled(encoder, settings.frozen_layers, [labelled.states[i] for i in batch])
            )
            loss = (soft_bce(z[:, 0], labelled.targets[batch]) * labelled.weights[batch]).mean()
            if settings.neutral_weight > 0 and neutral_batches:
                picked = neutral_batches[step % len(neutral_batches)]
                zn = head(
                    upper_pooled(
                        encoder, settings.frozen_layers, [neutral.states[i] for i in picked]
                    )
                )
                loss = (
                    loss
                    + settings.neutral_weight * soft_bce(zn[:, 0], neutral.targets[picked]).mean()
                )
            if settings.baseline_weight > 0 and settings.baseline_rows > 0:
                drawn = [
                    baselines[rng.randrange(len(baselines))] for _ in range(settings.baseline_rows)
                ]
                zb = head(upper_pooled(encoder, settings.frozen_layers, drawn))
                loss = (
                    loss
                    + settings.baseline_weight
                    * soft_bce(zb[:, 0], torch.full((len(drawn),), 0.5)).mean()
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            if step % 50 == 0:
                mean = running / (step + 1)
                print(
                    f"  epoch {epoch} step {step}/{len(label_batches)} loss {mean:.4f}", flush=True
                )
        encoder.eval()
        figures = report(epoch) if report is not None else {}
        figures = {"epoch": epoch, "train_loss": running / len(label_batches), **figures}
        print(f"  {figures}", flush=True)
        history.append(figures)
    return history


def two_class_head(head: nn.Linear) -> dict[str, torch.Tensor]:
    """The 1-logit head as the shipped 2-class layer: logits ``(-z / 2, z / 2)``."""
    w, c = head.weight.detach()[0], head.bias.detach()[0]
    return {
        "weight": torch.stack([-w / 2, w / 2]).contiguous(),
        "bias": torch.stack([-c / 2, c / 2]).contiguous(),
    }
