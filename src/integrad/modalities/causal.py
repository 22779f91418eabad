"""Causal language models (GPT-2, Llama, ...): one forward over prompt plus generation.

The prompt and the generated (or forced) tokens form one sequence, attributed at the input
embeddings through a layer hook. The logits at position ``p`` depend only on the tokens up
to ``p``, so ONE interpolated forward over the whole sequence serves every generated token:
the engine's multi-target mode scores all K generated tokens on the same forward pass and
runs one backward each. Several prompts are left-padded, with the attention mask and
explicit position ids, so a padded row computes what the unpadded one would; generated
token ``j`` of a row with ``G`` generated tokens is then predicted ``G - j`` positions from
the end of every row, whatever its padding.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import torch
from torch import nn

from integrad.modalities import generation_inputs as gen
from integrad.pipeline import BaselineSet, Batch, Scores, attribute_batch
from integrad.targets import PerExample, select_output


class _CausalForward(nn.Module):
    """Logits of a causal LM with explicit positions, only at the positions that are scored."""

    def __init__(self, model: nn.Module, n_logits: int) -> None:
        super().__init__()
        self.model = model
        accepted = inspect.signature(model.forward).parameters
        self.fixed: dict[str, Any] = {}
        if "logits_to_keep" in accepted:  # the LM head on the scored positions only
            self.fixed["logits_to_keep"] = n_logits
        if "use_cache" in accepted:
            self.fixed["use_cache"] = False
        self.positions = "position_ids" in accepted

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor
    ) -> torch.Tensor:
        extra = {"position_ids": position_ids} if self.positions else {}
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra, **self.fixed)
        return select_output(out)


def trace(
    setup: gen.Setup, prompts: list[gen.Prompt], generated: list[list[int]]
) -> list[gen.Traced]:
    """One engine call for a batch: the left-padded sequences, K targets per sequence."""
    device = gen.device_of(setup.model)
    specials = set(setup.tokenizer.all_special_ids)
    contexts = [p.ids + g[:-1] for p, g in zip(prompts, generated, strict=True)]
    ids = gen.padded(contexts, setup.pad_id, device, left=True)  # (batch, seq)
    mask = gen.padded([[1] * len(c) for c in contexts], 0, device, left=True)
    # Left padding shifts each row; explicit positions make a padded row equal the unpadded.
    position_ids = (mask.cumsum(1) - 1).clamp(min=0)
    keep_rows = []
    for p, g in zip(prompts, generated, strict=True):
        kept_generated = [not setup.include_generated or t in specials for t in g[:-1]]
        keep_rows.append(p.special + kept_generated)
    keep = gen.padded(keep_rows, True, device, left=True).bool()  # padding is kept too
    # Token j of a row with G generated tokens is predicted G - j positions from the end.
    positions = [[len(g) - j for j in range(len(g))] for g in generated]
    scores = gen.token_scores(positions, generated, True, device)
    base = setup.baseline_ids(ids, keep)
    # The baseline's token per column, for GenerationExplanation.path: -1 for a zero vector.
    if not base.is_floating_point():
        base_ids = base.tolist()
    elif setup.baseline == "zero":
        base_ids = torch.where(keep, ids, -1).tolist()
    else:
        base_ids = None
    if not base.is_floating_point():
        with torch.no_grad():
            base = setup.embedding(base)  # (batch, seq, hidden)
    res = attribute_batch(
        Batch(
            _CausalForward(setup.model, scores.ids.shape[1]),
            {"input_ids": ids},
            layer={"input_ids": setup.embedding},
            forward_kwargs={"attention_mask": mask, "position_ids": position_ids},
        ),
        [BaselineSet(layers={"input_ids": base})],
        PerExample(scores),
        setup.options,
        several_targets=True,
    )
    out = []
    for b, (p, g, context) in enumerate(zip(prompts, generated, contexts, strict=True)):
        start = ids.shape[1] - len(context)
        gen_special = [t in specials for t in g[:-1]]
        traced = _traced(
            res, b, len(g), start, context, p.special + gen_special, p.template, len(p.ids)
        )
        if base_ids is not None:
            traced = dataclasses.replace(traced, baseline_ids=base_ids[b][start:])
        out.append(traced)
    return out


def _traced(
    res: Scores,
    b: int,
    n_generated: int,
    start: int,
    context: list[int],
    special: list[bool],
    template: list[bool],
    n_prompt: int,
) -> gen.Traced:
    """Row ``b`` of the batch's scores as a :class:`Traced`; its context starts at ``start``."""
    # (G, n_context): the scores of this row's generated tokens over its own context
    rows = res.scores["input_ids"][b, :n_generated, start:]
    std = None if res.std is None else res.std["input_ids"][b, :n_generated, start:]
    n_visible = [n_prompt + j for j in range(n_generated)]
    stability = None
    if res.samples is not None:
        samples = res.samples["input_ids"][b, :, :n_generated, start:]
        stability = gen.stability(samples, special, n_visible)
    return gen.Traced(
        **res.diagnostics(b, n_generated),
        context_ids=context,
        special=special,
        template=template + [False] * (len(context) - len(template)),
        n_prompt=n_prompt,
        n_visible=n_visible,
        scores=rows.cpu(),
        std=None if std is None else std.cpu(),
        stability=stability,
    )
