"""Encoder-decoder language models (T5, BART): attribute to the encoder input and decoder prefix.

Encoder and decoder share one embedding module, called twice per forward, which a layer
hook cannot substitute once per call. So the embeddings are computed here and attributed
directly as the model's ``inputs_embeds`` and ``decoder_inputs_embeds``. Models that scale
embeddings do so inside the embedding module (transformers 5) or inside the stack (older
code); the scale is found by checking the logits against a call with token ids, never
assumed. The decoder reads ``[start] + generated[:-1]``, so token ``j`` is predicted at
decoder position ``j`` and sees the whole encoder input and the decoder's first ``j + 1``
tokens. Rows are right-padded, with both attention masks set.
"""

from __future__ import annotations

import torch
from torch import nn

from integrad.errors import ModelError
from integrad.modalities import generation_inputs as gen
from integrad.pipeline import BaselineSet, Batch, attribute_batch
from integrad.targets import PerExample, select_output


def decoder_start(model: nn.Module) -> int:
    """The id the decoder starts from (``config.decoder_start_token_id``)."""
    config = model.config
    start = getattr(getattr(model, "generation_config", None), "decoder_start_token_id", None)
    start = start if start is not None else getattr(config, "decoder_start_token_id", None)
    if not isinstance(start, int):
        raise ModelError(
            f"{type(model).__name__} has no decoder_start_token_id in its config, so the "
            "decoder's first input is unknown; set model.config.decoder_start_token_id"
        )
    return start


class _Seq2SeqForward(nn.Module):
    """Logits of an encoder-decoder model from the two embedding tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        decoder_inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        decoder_attention_mask: torch.Tensor,
    ) -> torch.Tensor:
        out = self.model(
            inputs_embeds=inputs_embeds,
            decoder_inputs_embeds=decoder_inputs_embeds,
            attention_mask=attention_mask,
            decoder_attention_mask=decoder_attention_mask,
            use_cache=False,
        )
        return select_output(out)


def embedding_scale(
    model: nn.Module, embedding: nn.Module, batch: dict[str, torch.Tensor]
) -> float:
    """The factor that turns ``embedding(ids)`` into what the stacks read, checked on logits.

    Args:
        model: The encoder-decoder model.
        embedding: Its input embedding module.
        batch: ``input_ids``, ``attention_mask``, ``decoder_input_ids`` and
            ``decoder_attention_mask`` of the batch being explained.
    """
    with torch.no_grad():
        reference = select_output(model(**batch, use_cache=False))
        embeds = embedding(batch["input_ids"]), embedding(batch["decoder_input_ids"])
        # transformers 5 scales inside the embedding module (scale 1 here); older code
        # scaled in the stack, as `embed_scale` on the encoder.
        stack_scale = getattr(model.get_encoder(), "embed_scale", None)
        candidates = [1.0] + ([float(stack_scale)] if isinstance(stack_scale, (int, float)) else [])
        for scale in candidates:
            logits = _Seq2SeqForward(model)(
                embeds[0] * scale,
                embeds[1] * scale,
                batch["attention_mask"],
                batch["decoder_attention_mask"],
            )
            if torch.allclose(logits, reference, rtol=1e-4, atol=1e-4 * reference.abs().max()):
                return scale
    raise ModelError(
        f"{type(model).__name__} gives different logits from inputs_embeds than from token "
        "ids, so its embeddings cannot be attributed directly; integrad supports "
        "encoder-decoder models whose stacks read get_input_embeddings()(ids)"
    )


def trace(
    setup: gen.Setup, prompts: list[gen.Prompt], generated: list[list[int]]
) -> list[gen.Traced]:
    """One engine call for a batch: encoder input and decoder prefix, K targets each."""
    model, device = setup.model, gen.device_of(setup.model)
    specials = set(setup.tokenizer.all_special_ids)
    start = decoder_start(model)
    decoder = [[start, *g[:-1]] for g in generated]
    batch = {
        "input_ids": gen.padded([p.ids for p in prompts], setup.pad_id, device, left=False),
        "attention_mask": gen.padded([[1] * len(p.ids) for p in prompts], 0, device, left=False),
        "decoder_input_ids": gen.padded(decoder, setup.pad_id, device, left=False),
        "decoder_attention_mask": gen.padded(
            [[1] * len(d) for d in decoder], 0, device, left=False
        ),
    }
    scale = embedding_scale(model, setup.embedding, batch)
    # What the baseline keeps: special tokens, padding, the start token, and (when the
    # generated tokens are not attributed) the whole decoder prefix.
    keep_enc = gen.padded([p.special for p in prompts], True, device, left=False).bool()
    keep_dec = gen.padded(
        [
            [True] + [not setup.include_generated or t in specials for t in g[:-1]]
            for g in generated
        ],
        True,
        device,
        left=False,
    ).bool()
    inputs, baselines = {}, {}
    for name, ids_key, keep in (
        ("inputs_embeds", "input_ids", keep_enc),
        ("decoder_inputs_embeds", "decoder_input_ids", keep_dec),
    ):
        ids = batch[ids_key]
        base = setup.baseline_ids(ids, keep)
        with torch.no_grad():
            inputs[name] = setup.embedding(ids) * scale  # (batch, seq, hidden)
            baselines[name] = base if base.is_floating_point() else setup.embedding(base) * scale
    # Token j is predicted at decoder position j.
    scores = gen.token_scores([list(range(len(g))) for g in generated], generated, False, device)
    res = attribute_batch(
        Batch(
            _Seq2SeqForward(model),
            inputs,
            forward_kwargs={
                "attention_mask": batch["attention_mask"],
                "decoder_attention_mask": batch["decoder_attention_mask"],
            },
        ),
        [BaselineSet(inputs=baselines)],
        PerExample(scores),
        setup.options,
        several_targets=True,
    )
    # (batch, K, seq): attributions summed over the hidden dimension
    enc, dec = (res.scores[k].sum(-1) for k in ("inputs_embeds", "decoder_inputs_embeds"))
    summed = None  # each noisy sample summed over the hidden size: (batch, S, K, seq)
    if res.samples is not None:
        summed = [res.samples[k].sum(-1) for k in inputs]
    out = []
    for b, (p, g, d) in enumerate(zip(prompts, generated, decoder, strict=True)):
        k, n = len(g), len(p.ids)
        # (G, n_prompt + len(decoder prefix))
        rows = torch.cat([enc[b, :k, :n], dec[b, :k, : len(d)]], dim=1)
        special = p.special + [True] + [t in specials for t in g[:-1]]
        n_visible = [n + j + 1 for j in range(k)]
        std = stability = None
        if summed is not None:  # (S, G, n_prompt + len(decoder prefix))
            samples = torch.cat([summed[0][b, :, :k, :n], summed[1][b, :, :k, : len(d)]], dim=2)
            std = samples.std(0, unbiased=False).cpu()
            stability = gen.stability(samples, special, n_visible)
        out.append(
            gen.Traced(
                **res.diagnostics(b, k),
                context_ids=p.ids + d,
                special=special,
                template=p.template + [False] * len(d),
                n_prompt=n,
                n_visible=n_visible,
                scores=rows.cpu(),
                std=std,
                stability=stability,
            )
        )
    return out
