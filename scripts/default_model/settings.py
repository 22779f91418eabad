"""Every setting of the default model's training, in one frozen record written to config.json."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What a training run does; the defaults are a first choice, not yet compared on validation.

    Attributes:
        seed: Seeds the LoRA initialisation, the head's, the batch order and the baseline draws.
        threads: torch CPU threads. Floating-point sums depend on it, so a bit-for-bit rebuild
            needs the same value (and the same torch build and CPU kind).
        frozen_layers: The encoder's lowest layers left as they are. Their output is computed
            once per text (inference only), and training runs only the layers above, which is
            what makes LoRA fine-tuning affordable on a 2-core CPU.
        rank: LoRA rank of every adapted linear layer.
        alpha: LoRA alpha; the update is ``alpha / rank * B @ A``.
        targets: The linear layers adapted in each unfrozen transformer layer (peft names).
        epochs: Passes over the fitting rows.
        batch_size: Rows per optimiser step (texts batched by length, batches shuffled).
        learning_rate: AdamW peak learning rate (linear warm-up, then linear decay to 0).
        warmup: Share of the steps spent warming up.
        weight_decay: AdamW's decoupled weight decay.
        neutral_weight: Weight of the neutral rows' loss (against P(POSITIVE) = 0.5) relative
            to the positive/negative rows', both as group means.
        neutral_share: Share of the neutral fitting rows used (taken by a fixed stride).
        baseline_weight: Weight of the content-free inputs' loss (against P(POSITIVE) = 0.5).
        baseline_rows: Content-free inputs drawn into every batch.
        baseline_kinds: Which content-free inputs: ``[CLS] X * n [SEP]`` with X each of
            ``pad``, ``mask``, ``unk``, and ``zero`` (zero word embeddings between [CLS] and
            [SEP]), for every length n that a fitting text has.
        max_length: Longest token sequence (no tweet of the corpus reaches it).
    """

    seed: int = 0
    threads: int = 2
    frozen_layers: int = 4
    rank: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = (
        "query",
        "key",
        "value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    neutral_weight: float = 1.0
    neutral_share: float = 0.5
    baseline_weight: float = 1.0
    baseline_rows: int = 4
    baseline_kinds: tuple[str, ...] = ("pad", "mask", "unk", "zero")
    max_length: int = 128
