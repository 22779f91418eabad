"""explain_generation on tiny causal LMs (GPT-2 and Llama shaped), built in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput
from matplotlib.figure import Figure
from rich.console import Console
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertLMHeadModel,
)

import integrad
from integrad import GenerationExplanation, GenerationExplanations
from integrad.core.adaptive import FIRST_EVALS
from integrad.errors import BaselineError, InputError, IntegradError, ModelError, TargetError
from tests.tiny_lm import CHAT_TEMPLATE, make_gpt2, make_llama, make_tokenizer

FAST = {"method": "gausslegendre", "n_steps": 24}


@pytest.fixture(scope="module")
def tok():
    t = make_tokenizer()
    t.chat_template = CHAT_TEMPLATE
    return t


@pytest.fixture(scope="module")
def gpt2_tok():
    """GPT-2's convention: one special token for everything, no pad token, no BOS added."""
    return make_tokenizer(bos=False, gpt2_style=True)


@pytest.fixture(scope="module")
def llama(tok):
    return make_llama(len(tok))


@pytest.fixture(scope="module")
def gpt2(tok):
    return make_gpt2(len(tok))


PROMPT = "the cat sat on the mat and then"


def scores_by_hand(model, ids: list[int], generated: list[int]) -> list[float]:
    """Each generated token's log-probability from one plain forward over the sequence."""
    seq = torch.tensor([ids + generated[:-1]])
    with torch.no_grad():
        logp = model(input_ids=seq).logits[0].log_softmax(-1)
    return [logp[len(ids) - 1 + j, t].item() for j, t in enumerate(generated)]


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_completeness_for_every_generated_token(name, tok, request):
    model = request.getfixturevalue(name)
    e = integrad.explain_generation(model, PROMPT, tokenizer=tok, max_new_tokens=6)
    assert isinstance(e, GenerationExplanation)
    assert len(e.generated_tokens) == 6 and len(e.scores) == 6
    gain = np.array(e.output) - np.array(e.baseline_output)
    # every row adds up to its token's change in log-probability
    np.testing.assert_allclose(e.totals, gain, atol=1e-4)
    np.testing.assert_allclose(np.array(e.totals) - gain, e.delta, atol=1e-5)
    assert max(abs(d) for d in e.delta) < 1e-4
    # the default for generation: adaptive, from zero embeddings
    assert e.method == "adaptive" and e.options.tol == 1e-3 and e.baseline == "zero"
    assert e.error_estimate < 1e-3 and e.n_evals >= FIRST_EVALS
    # the attributed scores are the model's own log-probabilities of the greedy tokens
    ids = tok(PROMPT)["input_ids"]
    np.testing.assert_allclose(
        e.output, scores_by_hand(model, ids, list(e.generated_ids)), atol=1e-5
    )
    with torch.no_grad():
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=6, do_sample=False)
    assert list(e.generated_ids) == greedy[0, len(ids) :].tolist()


def test_causality_each_token_sees_only_its_prefix(llama, tok):
    e = integrad.explain_generation(
        llama, PROMPT, tokenizer=tok, target="the dog ran to park", **FAST
    )
    m = e.matrix
    n = e.n_prompt
    assert e.n_visible == tuple(n + j for j in range(5))
    assert m.shape == (5, n + 4)
    for j in range(5):
        assert np.all(m[j, n + j :] == 0.0)  # not generated yet: exactly no attribution
        assert np.any(m[j, n : n + j] != 0.0) or j == 0  # earlier generated tokens count
    assert np.all(m[:, 0] == 0.0)  # BOS is kept in the baseline


def test_model_that_reads_ahead_is_refused(tok):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, is_decoder=False,
    )  # fmt: skip
    model = BertLMHeadModel(config).eval()  # bidirectional: every token sees the whole text
    with pytest.raises(ModelError, match="not causal"):
        integrad.explain_generation(model, PROMPT, tokenizer=tok, target="dog ran", **FAST)


def test_forced_target(llama, tok):
    e = integrad.explain_generation(llama, PROMPT, tokenizer=tok, target="the dog ran", **FAST)
    assert e.forced and e.generated_tokens == ("the", "dog", "ran")
    assert e.generated_text == "the dog ran"
    ids = tok(PROMPT)["input_ids"]
    np.testing.assert_allclose(
        e.output, scores_by_hand(llama, ids, list(e.generated_ids)), atol=1e-5
    )
    np.testing.assert_allclose(e.totals, np.subtract(e.output, e.baseline_output), atol=2e-3)


def test_batch_equals_one_at_a_time(llama, tok):
    prompts = ["a dog", PROMPT, "why is sky blue"]
    many = integrad.explain_generation(llama, prompts, tokenizer=tok, max_new_tokens=4, **FAST)
    assert isinstance(many, GenerationExplanations) and len(many) == 3
    for p, e in zip(prompts, many, strict=True):
        one = integrad.explain_generation(llama, p, tokenizer=tok, max_new_tokens=4, **FAST)
        assert e.prompt == p and e.generated_ids == one.generated_ids
        np.testing.assert_allclose(e.matrix, one.matrix, atol=1e-5)
        np.testing.assert_allclose(e.delta, one.delta, atol=1e-5)


@pytest.mark.parametrize("name", ["gpt2", "llama"])
def test_left_padding_changes_nothing(name, tok, request):
    model = request.getfixturevalue(name)
    short, long = "hi", "why is sky blue because light was good and bad then"
    alone = integrad.explain_generation(model, short, tokenizer=tok, target="sky blue", **FAST)
    padded = integrad.explain_generation(
        model, [long, short], tokenizer=tok, target=["it was", "sky blue"], **FAST
    )[1]
    # the short prompt sat behind 9 pad tokens in the batch
    np.testing.assert_allclose(padded.matrix, alone.matrix, atol=1e-6)
    np.testing.assert_allclose(padded.output, alone.output, atol=1e-6)


def test_parity_with_captum_layer_ig_for_one_generated_position(gpt2, tok):
    e = integrad.explain_generation(
        gpt2, PROMPT, tokenizer=tok, target="dog ran to park", baseline="pad", **FAST
    )
    j = 2  # explain "to": its context is the prompt plus "dog ran"
    context = torch.tensor([list(e.context_ids[: e.n_visible[j]])])
    base = torch.where(torch.tensor([list(e.special[: e.n_visible[j]])]), context, tok.pad_token_id)
    token = e.generated_ids[j]

    def log_prob(ids):
        return gpt2(input_ids=ids).logits[:, -1].log_softmax(-1)[:, token]

    lig = LayerIntegratedGradients(log_prob, gpt2.get_input_embeddings())
    theirs = lig.attribute(context, base, n_steps=24, method="gausslegendre").sum(-1)[0]
    ours = torch.tensor(e.matrix[j, : e.n_visible[j]], dtype=theirs.dtype)
    torch.testing.assert_close(ours, theirs.detach(), atol=2e-5, rtol=1e-3)


def test_parity_with_captum_llm_attribution_on_the_prompt(gpt2, tok):
    e = integrad.explain_generation(
        gpt2,
        PROMPT,
        tokenizer=tok,
        target="dog ran to",
        include_generated=False,
        baseline="pad",
        **FAST,
    )
    llm = LLMGradientAttribution(LayerIntegratedGradients(gpt2, gpt2.get_input_embeddings()), tok)
    inp = TextTokenInput(PROMPT, tok, baselines=tok.pad_token_id, skip_tokens=["<s>"])
    theirs = llm.attribute(inp, target=torch.tensor(e.generated_ids), n_steps=24).token_attr
    # Captum drops the skipped BOS column and attributes to the prompt only
    ours = torch.tensor(e.matrix[:, 1 : e.n_prompt], dtype=theirs.dtype)
    torch.testing.assert_close(ours, theirs, atol=2e-5, rtol=1e-3)
    assert np.all(e.matrix[:, e.n_prompt :] == 0.0)


@pytest.mark.parametrize("score", ["log_prob", "prob", "logit"])
def test_scores(score, llama, tok):
    e = integrad.explain_generation(llama, PROMPT, tokenizer=tok, target="the dog", score=score)
    assert e.score == ("probability" if score == "prob" else score)
    ids = tok(PROMPT)["input_ids"]
    logp = np.array(scores_by_hand(llama, ids, list(e.generated_ids)))
    expected = {"log_prob": logp, "prob": np.exp(logp)}.get(score)
    if expected is not None:
        np.testing.assert_allclose(e.output, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(e.totals, np.subtract(e.output, e.baseline_output), atol=1e-4)


def test_baselines(gpt2_tok):
    model = make_gpt2(len(gpt2_tok))
    e = integrad.explain_generation(
        model, "the cat sat", tokenizer=gpt2_tok, target="on mat", **FAST
    )
    # Causal models default to zero embeddings; the first token stays (attention sink).
    assert e.baseline == "zero"
    # No BOS: the first token is kept as the attention sink, and scores 0 ...
    assert e.special == (True, False, False, False) and not e.matrix[:, 0].any()
    assert e.top_context(0) != "the"
    # ... unless keep_first=False: then every token is attributed.
    every = integrad.explain_generation(
        model, "the cat sat", tokenizer=gpt2_tok, target="on mat", keep_first=False, **FAST
    )
    # A token baseline by name.
    unk = integrad.explain_generation(
        model, "the cat sat", tokenizer=gpt2_tok, target="on", baseline="unk", **FAST
    )
    assert unk.baseline == "unk (<|endoftext|>)"
    assert not any(every.special) and every.matrix[:, 0].all()
    z = integrad.explain_generation(
        model, "the cat sat", tokenizer=gpt2_tok, target="on", baseline="zero"
    )
    assert z.baseline == "zero"
    np.testing.assert_allclose(z.totals, np.subtract(z.output, z.baseline_output), atol=1e-4)
    with pytest.raises(BaselineError, match="needs a mask token, but the tokenizer has none"):
        integrad.explain_generation(model, "the cat", tokenizer=gpt2_tok, baseline="mask")
    with pytest.raises(BaselineError, match="outside the tokenizer"):
        integrad.explain_generation(model, "the cat", tokenizer=gpt2_tok, baseline=10_000)
    with pytest.raises(InputError, match="keep_first must be True or False"):
        integrad.explain_generation(model, "the cat", tokenizer=gpt2_tok, keep_first="yes")


def test_a_one_token_prompt_keeps_its_token_attributed(gpt2_tok):
    model = make_gpt2(len(gpt2_tok))
    e = integrad.explain_generation(model, "cat", tokenizer=gpt2_tok, target="sat on", **FAST)
    assert e.special == (False, False) and e.matrix[0, 0] != 0


def test_chat_template_tokens_are_marked_and_can_be_hidden(llama, tok):
    chat = [{"role": "user", "content": "why is sky blue ?"}]
    e = integrad.explain_generation(llama, chat, tokenizer=tok, target="because light", **FAST)
    assert e.prompt == "<s><|user|> why is sky blue ? </s> <|assistant|>"
    marked = [t for t, m in zip(e.prompt_tokens, e.template[: e.n_prompt], strict=True) if m]
    assert marked == ["<s>", "<|user|>", "</s>", "<|assistant|>"]
    assert not any(e.template[e.n_prompt :])
    np.testing.assert_allclose(e.totals, np.subtract(e.output, e.baseline_output), atol=2e-3)
    shown = e.to_html(hide_template=True)
    assert "4 chat-template tokens hidden" in shown
    header = shown.split("<thead>")[1].split("</thead>")[0]
    assert "|user|" not in header and "|user|" in e.to_html().split("</thead>")[0]
    chats = [chat, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]]
    many = integrad.explain_generation(
        llama, chats, tokenizer=tok, target=["because light", "a"], **FAST
    )
    np.testing.assert_allclose(many[0].matrix, e.matrix, atol=1e-6)
    assert many[1].prompt == "<s><|user|> hi </s> <|assistant|> hello </s> <|assistant|>"
    assert sum(many[1].template) == 6  # the three markers, two </s> and BOS
    with pytest.raises(InputError, match="no chat template"):
        integrad.explain_generation(llama, chat, tokenizer=make_tokenizer(), target="hi")


def test_html_is_escaped(llama, tok):
    e = integrad.explain_generation(
        llama, "<script>alert(1)</script> the cat", tokenizer=tok, target="<b> dog", **FAST
    )
    html = e.to_html()
    assert "<script>" not in html and "<b>" not in html.replace("<b>prompt", "").replace(
        "<b>forced", ""
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<tr>") == 1 + len(e.generated_tokens) + 1  # header, rows, whole output


def test_views_and_round_trip(llama, tok, tmp_path):
    e = integrad.explain_generation(llama, PROMPT, tokenizer=tok, target="the dog ran", **FAST)
    data = json.loads(e.to_json())
    assert data["sequence_scores"] == pytest.approx(list(e.matrix.sum(0)))
    assert data["sequence_output"] == pytest.approx(sum(e.output))
    assert data["prompt_tokens"] == list(e.prompt_tokens)
    assert GenerationExplanation.from_json(e.to_json()) == e
    assert isinstance(e.plot(), Figure)
    e.save_html(tmp_path / "g.html")
    assert "whole output" in (tmp_path / "g.html").read_text()
    console = Console(record=True, width=120, color_system="truecolor")
    console.print(e)
    text = console.export_text()
    assert "→ the dog ran" in text and "pushed up by" in text and "ran " in text
    with pytest.raises(InputError, match="normalize"):
        e.to_html(normalize="column")
    assert e.top_context(0) in e.prompt_tokens


def test_several_prompts_round_trip_and_plot(llama, tok):
    many = integrad.explain_generation(
        llama, ["hi", PROMPT], tokenizer=tok, target="the dog", **FAST
    )
    assert GenerationExplanations.from_json(many.to_json()) == many
    assert isinstance(many.plot(), Figure)
    assert many.to_html().count(">whole output</th>") == 2
    with pytest.raises(InputError, match="takes no ax"):
        many.plot(ax=object())


def test_loads_a_local_folder(tmp_path, tok):
    model = make_gpt2(len(tok), seed=1)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    e = integrad.explain_generation(str(tmp_path), PROMPT, max_new_tokens=2, **FAST)
    assert e.model_name == str(tmp_path) and len(e.generated_tokens) == 2


def test_errors(llama, tok):
    torch.manual_seed(0)
    classifier = BertForSequenceClassification(
        BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                   num_attention_heads=2, intermediate_size=37)
    )  # fmt: skip
    with pytest.raises(ModelError, match="not a causal language model"):
        integrad.explain_generation(classifier, PROMPT, tokenizer=tok)
    with pytest.raises(InputError, match="empty or only whitespace"):
        integrad.explain_generation(llama, "   ", tokenizer=tok)
    with pytest.raises(InputError, match="no prompt"):
        integrad.explain_generation(llama, tokenizer=tok)
    with pytest.raises(TargetError, match="tokenizes to nothing"):
        integrad.explain_generation(llama, PROMPT, tokenizer=tok, target=" ")
    with pytest.raises(TargetError, match="one string per prompt"):
        integrad.explain_generation(llama, [PROMPT, "hi"], tokenizer=tok, target=["a"])
    with pytest.raises(IntegradError, match="unknown score"):
        integrad.explain_generation(llama, PROMPT, tokenizer=tok, score="rank")
    with pytest.raises(InputError, match="max_new_tokens must be a positive int"):
        integrad.explain_generation(llama, PROMPT, tokenizer=tok, max_new_tokens=0)
    with pytest.raises(IntegradError, match="sets 'layer' itself"):
        integrad.explain_generation(
            llama, PROMPT, tokenizer=tok, layer=llama.get_input_embeddings()
        )
    with pytest.raises(InputError, match="model reads at most 64"):
        integrad.explain_generation(llama, " ".join(["cat"] * 60), tokenizer=tok, max_new_tokens=10)
    with pytest.raises(InputError, match="special tokens only"):
        integrad.explain_generation(llama, "<s>", tokenizer=tok)


def test_the_old_argument_order_still_works_with_a_warning(llama, tok):
    new = integrad.explain_generation(llama, PROMPT, tokenizer=tok, target="the dog", **FAST)
    with pytest.warns(DeprecationWarning, match=r"use tokenizer=\.\.\. instead"):
        old = integrad.explain_generation(llama, tok, PROMPT, target="the dog", **FAST)
    assert old == new
