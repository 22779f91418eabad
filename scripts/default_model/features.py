"""The encoder split in two: frozen lower layers run once per text, trainable upper layers.

Only the upper layers carry LoRA updates, so the lower layers' output for a text never changes
during training; :func:`lower_states` computes it once (inference only) and every epoch starts
from there. :func:`upper_pooled` runs the upper layers on a batch of those states and mean-pools
them exactly as ``MeanPoolClassifier.pooled`` does, so the trained model and the shipped one
compute the same function (the training script checks this after merging).
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from integrad.models.default import encoder_path, mean_pool

BATCH_SIZE = 64


@contextlib.contextmanager
def lower_layers_only(encoder: PreTrainedModel, count: int) -> Iterator[None]:
    """Makes ``encoder`` run its embeddings and first ``count`` layers only, for a while."""
    layers = encoder.encoder.layer
    encoder.encoder.layer = nn.ModuleList(list(layers)[:count])
    try:
        yield
    finally:
        encoder.encoder.layer = layers


def lower_states(
    encoder: PreTrainedModel,
    count: int,
    input_ids: list[list[int]],
    zero_inner: bool = False,
) -> list[torch.Tensor]:
    """Each sequence's states after the embeddings and the first ``count`` layers.

    Sequences are batched by length (a stable sort, so batches are the same every run) and
    never padded inside a batch of one length, so no padding reaches the states.

    Args:
        encoder: The encoder (its LoRA updates, if any, must be in layers ``>= count``).
        count: Layers to run.
        input_ids: Token ids of each sequence, special tokens included.
        zero_inner: Zero the word embedding of every token but the first and last (the
            ``zero`` baseline: [CLS] and [SEP] kept).

    Returns:
        One ``(length, hidden)`` float32 tensor per sequence, in the given order.
    """
    order = sorted(range(len(input_ids)), key=lambda index: len(input_ids[index]))
    states: list[torch.Tensor | None] = [None] * len(input_ids)
    started = shown = time.perf_counter()
    with torch.inference_mode(), lower_layers_only(encoder, count):
        start = 0
        while start < len(order):
            length = len(input_ids[order[start]])
            batch = [i for i in order[start : start + BATCH_SIZE] if len(input_ids[i]) == length]
            ids = torch.tensor([input_ids[i] for i in batch])
            embeds = encoder.get_input_embeddings()(ids)
            if zero_inner:
                embeds[:, 1:-1] = 0.0
            hidden = encoder(inputs_embeds=embeds, return_dict=True).last_hidden_state
            for row, index in enumerate(batch):
                states[index] = hidden[row].clone()
            start += len(batch)
            if time.perf_counter() - shown > 60:
                shown = time.perf_counter()
                print(f"  lower layers: {start}/{len(order)} ({shown - started:.0f}s)", flush=True)
    return states


def cached_lower_states(
    encoder: PreTrainedModel,
    count: int,
    input_ids: list[list[int]],
    zero_inner: bool = False,
) -> list[torch.Tensor]:
    """:func:`lower_states`, kept in a temp file named after everything the states depend on.

    On the project's busy 2-core machine the lower layers take most of a run (about 45 of 75
    minutes), and they are the same for every candidate setting; the file makes reruns and
    candidates skip them. Reading it back gives the very tensors computed, so results stay
    bit for bit the same.
    """
    key = hashlib.sha256()
    for part in (
        torch.__version__,
        transformers.__version__,
        str(torch.get_num_threads()),
        str(count),
        str(zero_inner),
    ):
        key.update(part.encode() + b"\0")
    key.update((encoder_path() / "model.safetensors").read_bytes())
    for ids in input_ids:
        key.update(str(ids).encode() + b"\0")
    path = Path(tempfile.gettempdir()) / f"integrad-lower-states-{key.hexdigest()[:20]}.st"
    if path.is_file():
        stored = load_file(path)
        print(f"  lower layers: {len(input_ids)} sequences read from {path}", flush=True)
        return list(torch.split(stored["states"], stored["lengths"].tolist()))
    states = lower_states(encoder, count, input_ids, zero_inner)
    lengths = torch.tensor([len(s) for s in states])
    save_file({"states": torch.cat(states).contiguous(), "lengths": lengths}, path)
    return states


def pad_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stacks states of different lengths: ``(batch, longest, hidden)`` and the 0/1 mask."""
    longest = max(len(s) for s in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, s in enumerate(states):
        hidden[row, : len(s)] = s
        mask[row, : len(s)] = 1
    return hidden, mask


def upper_pooled(encoder: PreTrainedModel, count: int, states: list[torch.Tensor]) -> torch.Tensor:
    """Runs layers ``count`` and up on lower-layer states and mean-pools: ``(batch, hidden)``."""
    hidden, mask = pad_states(states)
    # The encoder's own mask builder, so padding is masked exactly as in a full forward.
    attention, _ = encoder._create_attention_masks(mask, None, hidden, None, None)
    for layer in list(encoder.encoder.layer)[count:]:
        hidden = layer(hidden, attention)
    return mean_pool(hidden, mask)


def baseline_ids(
    tokenizer: PreTrainedTokenizerBase, kind: str, lengths: list[int]
) -> list[list[int]]:
    """``[CLS] X * (n - 2) [SEP]`` for each total length ``n``; X is the ``kind`` token.

    ``zero`` uses [PAD] ids; :func:`lower_states` then zeroes their embeddings.
    """
    token = tokenizer.pad_token_id if kind == "zero" else getattr(tokenizer, f"{kind}_token_id")
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [[cls, *[token] * (n - 2), sep] for n in lengths]


def tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    """Token ids of each text with special tokens, truncated to the tokenizer's limit."""
    return tokenizer(texts, truncation=True)["input_ids"]
