"""explain_generation on tiny encoder-decoder models (T5 and BART), built in-process."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    T5Config,
    T5ForConditionalGeneration,
)

import integrad
from integrad.errors import ModelError
from integrad.modalities.seq2seq import embedding_scale
from tests.modalities.test_generation import FAST
from tests.tiny_lm import make_tokenizer

PROMPT = "why is sky blue ?"


@pytest.fixture(scope="module")
def tok():
    return make_tokenizer(bos=False, eos_after=True)  # T5 and BART inputs end with </s>


@pytest.fixture(scope="module")
def t5(tok):
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tok), d_model=32, d_kv=16, d_ff=37, num_layers=2, num_heads=2,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=3,
        # T5 v1.1 / Flan-T5 style: smooth. The original ReLU feed-forward makes the gradient
        # jump along the path, and any quadrature then converges slowly.
        feed_forward_proj="gated-gelu",
    )  # fmt: skip
    return T5ForConditionalGeneration(config).eval()


@pytest.fixture(scope="module")
def bart(tok):
    torch.manual_seed(0)
    config = BartConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=37,
        decoder_ffn_dim=37, max_position_embeddings=64, scale_embedding=True, pad_token_id=0,
        bos_token_id=2, eos_token_id=3, decoder_start_token_id=3, forced_bos_token_id=None,
    )  # fmt: skip
    return BartForConditionalGeneration(config).eval()


def by_hand(model, ids: list[int], generated: list[int], start: int) -> list[float]:
    """Each generated token's log-probability from one plain call with token ids."""
    with torch.no_grad():
        decoder = torch.tensor([[start, *generated[:-1]]])
        logits = model(input_ids=torch.tensor([ids]), decoder_input_ids=decoder).logits
    logp = logits[0].log_softmax(-1)
    return [logp[j, t].item() for j, t in enumerate(generated)]


@pytest.mark.parametrize("name", ["t5", "bart"])
def test_completeness_and_scores_for_every_generated_token(name, tok, request):
    model = request.getfixturevalue(name)
    e = integrad.explain_generation(model, PROMPT, tokenizer=tok, max_new_tokens=5)
    assert e.encoder_decoder and 1 <= len(e.generated_tokens) <= 5
    gain = np.subtract(e.output, e.baseline_output)
    np.testing.assert_allclose(np.subtract(e.totals, gain), e.delta, atol=1e-5)
    # adaptive integration to tol=1e-3 (relative): completeness to the same order
    assert e.error_estimate < 1e-3
    assert max(abs(d) for d in e.delta) < 1e-3 * np.abs(gain).max()
    ids = tok(PROMPT)["input_ids"]
    start = model.config.decoder_start_token_id
    expected = by_hand(model, ids, list(e.generated_ids), start)
    np.testing.assert_allclose(e.output, expected, atol=1e-5)
    with torch.no_grad():
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=5, do_sample=False)
    assert [start, *e.generated_ids] == greedy[0, : len(e.generated_ids) + 1].tolist()


def test_columns_are_encoder_input_then_decoder_prefix(t5, tok):
    e = integrad.explain_generation(t5, PROMPT, tokenizer=tok, target="because light was", **FAST)
    n = e.n_prompt
    assert e.prompt_tokens == ("why", "is", "sky", "blue", "?", "</s>")
    assert e.context_tokens[n:] == ("<pad>", "because", "light")  # start token, then generated
    assert e.n_visible == (n + 1, n + 2, n + 3)
    m = e.matrix
    for j in range(3):
        assert np.all(m[j, e.n_visible[j] :] == 0.0)  # causal decoder
        assert np.all(m[j, :n][np.array(e.special[:n])] == 0.0)  # </s> kept in the baseline
        assert np.any(m[j, : n - 1] != 0.0)
    assert m[2, n + 1] != 0.0 and m[2, n + 2] != 0.0  # earlier generated tokens count
    assert m[0, n] == 0.0  # the start token is kept in the baseline


def test_batch_equals_one_at_a_time(t5, tok):
    prompts = ["hi", PROMPT, "the cat sat on the mat"]
    targets = ["hello", "because light", "a dog ran"]
    many = integrad.explain_generation(t5, prompts, tokenizer=tok, target=targets, **FAST)
    for p, t, e in zip(prompts, targets, many, strict=True):
        one = integrad.explain_generation(t5, p, tokenizer=tok, target=t, **FAST)
        np.testing.assert_allclose(e.matrix, one.matrix, atol=1e-6)
        np.testing.assert_allclose(e.output, one.output, atol=1e-6)
    generated = integrad.explain_generation(t5, prompts, tokenizer=tok, max_new_tokens=3, **FAST)
    for p, e in zip(prompts, generated, strict=True):
        one = integrad.explain_generation(t5, p, tokenizer=tok, max_new_tokens=3, **FAST)
        assert e.generated_ids == one.generated_ids


def test_prompt_only_keeps_the_decoder_prefix_fixed(bart, tok):
    e = integrad.explain_generation(
        bart, PROMPT, tokenizer=tok, target="because light", include_generated=False, **FAST
    )
    assert np.all(e.matrix[:, e.n_prompt :] == 0.0)
    np.testing.assert_allclose(e.totals, np.subtract(e.output, e.baseline_output), atol=2e-3)


def test_embedding_scale_is_checked_not_assumed(bart, tok):
    ids = torch.tensor([tok(PROMPT)["input_ids"]])
    batch = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "decoder_input_ids": torch.tensor([[3, 9]]),
        "decoder_attention_mask": torch.ones(1, 2, dtype=torch.long),
    }
    assert embedding_scale(bart, bart.get_input_embeddings(), batch) == 1.0  # scaled inside
    with pytest.raises(ModelError, match="different logits from inputs_embeds"):
        embedding_scale(bart, torch.nn.Embedding(len(tok), 32), batch)


def test_loads_a_local_t5_folder(tmp_path, t5, tok):
    t5.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    e = integrad.explain_generation(str(tmp_path), PROMPT, target="light", **FAST)
    assert e.encoder_decoder and e.generated_tokens == ("light",)
