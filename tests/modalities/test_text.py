"""integrad.explain on a tiny random BERT: inputs, batching, targets, baselines, errors."""

import pytest
import torch
from transformers import BertModel, pipeline

import integrad
from integrad import (
    BaselineError,
    InputError,
    IntegradError,
    IntegradWarning,
    ModelError,
    TargetError,
)
from integrad.core.adaptive import FIRST_EVALS
from tests.tiny_bert import VOCAB, make_bert

TEXTS = [
    "The movie was fantastic!",
    "terrible service, never again",
    "great food",
    "i love you but i also kind of dislike you",
]


def _scores(e):
    return torch.tensor(e.token_scores, dtype=torch.float64)


def test_single_text_gives_words_with_spans_and_completeness(tiny_bert, tiny_tokenizer):
    e = integrad.explain(tiny_bert, "The movie was fantastic!", tokenizer=tiny_tokenizer)
    assert isinstance(e, integrad.TextExplanation)
    assert e.tokens == ("[CLS]", "the", "movie", "was", "fan", "##tas", "##tic", "!", "[SEP]")
    assert e.special_tokens == (True, False, False, False, False, False, False, False, True)
    # The three subwords of "fantastic" are merged back into one word, in the original case.
    assert e.words == ("The", "movie", "was", "fantastic", "!")
    assert e.word_spans == ((0, 3), (4, 9), (10, 13), (14, 23), (23, 24))
    assert e.token_words == (None, 0, 1, 2, 3, 3, 3, 4, None)
    assert e.word_scores[3] == pytest.approx(sum(e.token_scores[4:7]), abs=1e-12)
    # Words plus special tokens add up to the total, which is F(x) - F(x') up to delta.
    assert sum(e.word_scores) + e.special_score == pytest.approx(e.total, abs=1e-12)
    assert e.total - (e.output - e.baseline_output) == pytest.approx(e.delta, abs=1e-6)
    assert abs(e.delta) < 1e-4 * abs(e.output - e.baseline_output)
    assert e.predicted_label == e.target_label  # predicted class by default
    assert sum(e.probabilities) == pytest.approx(1.0)
    # By default each text is integrated to tol=1e-3, and says how close it got.
    assert (e.method, e.n_steps, e.options.tol, e.baseline, e.score) == (
        "adaptive",
        None,
        1e-3,
        "neutral: pad",
        "logit",
    )
    assert e.n_evals >= FIRST_EVALS and e.error_estimate <= 1e-3
    assert e.truncated is False
    # A fixed rule stays one setting away.
    fixed = integrad.explain(
        tiny_bert, "The movie was fantastic!", tokenizer=tiny_tokenizer, n_steps=50
    )
    assert (fixed.method, fixed.n_steps, fixed.n_evals, fixed.error_estimate) == (
        "gausslegendre",
        50,
        50,
        None,
    )


def test_list_is_batched_in_order_each_with_its_own_prediction(
    tiny_bert, tiny_tokenizer, fresh_probes
):
    calls = []
    handle = tiny_bert.register_forward_hook(lambda *_: calls.append(1))
    same_length = ["great food", "bad service", "good movie", "terrible food"]
    try:
        integrad.explain(tiny_bert, same_length, tokenizer=tiny_tokenizer)
        batched_calls = len(calls)
        calls.clear()
        integrad.explain(tiny_bert, same_length[0], tokenizer=tiny_tokenizer)
        single_calls = len(calls)
    finally:
        handle.remove()
    # Four texts of one length form one batch: the forward passes of one text, not four
    # (plus the memory probe, which runs once per model and row shape in a process).
    assert batched_calls == single_calls + 1
    many = integrad.explain(tiny_bert, TEXTS, tokenizer=tiny_tokenizer)
    assert isinstance(many, integrad.TextExplanations) and len(many) == len(TEXTS)
    assert [e.text for e in many] == TEXTS
    one_by_one = [integrad.explain(tiny_bert, t, tokenizer=tiny_tokenizer) for t in TEXTS]
    for batched, single in zip(many, one_by_one, strict=True):
        assert batched.predicted == single.predicted
        assert batched.tokens == single.tokens
        torch.testing.assert_close(_scores(batched), _scores(single), rtol=1e-4, atol=1e-6)
    assert {e.predicted_label for e in many} == {"NEGATIVE", "POSITIVE"}


def test_length_buckets_keep_the_users_order(tiny_bert, tiny_tokenizer):
    seen = []
    many = integrad.explain(
        tiny_bert,
        TEXTS,
        tokenizer=tiny_tokenizer,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [e.text for e in many] == TEXTS
    # Token counts 9, 7, 4, 12: [4] alone (7 would pad it by more than 25%), [7, 9], [12].
    assert seen == [(1, 4), (3, 4), (4, 4)]
    whole = integrad.explain(tiny_bert, TEXTS, tokenizer=tiny_tokenizer)
    for a, b in zip(many, whole, strict=True):
        torch.testing.assert_close(_scores(a), _scores(b), rtol=1e-4, atol=1e-6)


def test_batches_pad_on_the_right_even_for_a_left_padding_tokenizer(tiny_bert, tiny_tokenizer):
    # BERT numbers positions from the left: left padding would shift every position.
    left_tok = type(tiny_tokenizer).from_pretrained(
        tiny_tokenizer.name_or_path, padding_side="left", model_max_length=48
    )
    batched = integrad.explain(tiny_bert, TEXTS[:2], tokenizer=left_tok)
    for text, e in zip(TEXTS[:2], batched, strict=True):
        single = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer)
        torch.testing.assert_close(_scores(e), _scores(single), rtol=1e-4, atol=1e-6)


def test_pipeline_model_name_and_folder_give_the_same_result(
    tiny_bert, tiny_tokenizer, tiny_bert_folder
):
    reference = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer)
    pipe = pipeline("text-classification", model=tiny_bert, tokenizer=tiny_tokenizer)
    from_pipe = integrad.explain(pipe, "great food")
    from_folder = integrad.explain(str(tiny_bert_folder), "great food")
    from_path = integrad.explain(tiny_bert_folder, "great food")
    for e in (from_pipe, from_folder, from_path):
        assert e.tokens == reference.tokens
        torch.testing.assert_close(_scores(e), _scores(reference), rtol=1e-5, atol=1e-7)
    assert from_folder.model_name == str(tiny_bert_folder)


def test_targets_by_name_index_and_per_text(tiny_bert, tiny_tokenizer):
    by_name = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, target="NEGATIVE")
    by_lower = integrad.explain(
        tiny_bert, "great food", tokenizer=tiny_tokenizer, target="negative"
    )
    by_index = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, target=0)
    assert by_name.target == by_lower.target == by_index.target == 0
    assert by_name.target_label == "NEGATIVE"
    assert by_name.word_scores == by_index.word_scores
    other = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, target=1)
    # The two classes' logits are different functions of the words.
    assert by_name.word_scores != pytest.approx(other.word_scores)
    per_text = integrad.explain(
        tiny_bert, TEXTS[:3], tokenizer=tiny_tokenizer, target=["POSITIVE", 0, None]
    )
    assert [e.target for e in per_text] == [1, 0, per_text[2].predicted]


def test_unknown_or_out_of_range_target_lists_the_labels(tiny_bert, tiny_tokenizer):
    with pytest.raises(TargetError, match=r"unknown label 'HAPPY'.*NEGATIVE, POSITIVE"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, target="HAPPY")
    with pytest.raises(TargetError, match=r"target 5 is out of range.*0=NEGATIVE, 1=POSITIVE"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, target=5)
    with pytest.raises(TargetError, match=r"one of those per text \(2 here\)"):
        integrad.explain(tiny_bert, ["a", "b"], tokenizer=tiny_tokenizer, target=[0, 1, 0])


def test_probability_score_is_attributed_and_reported(tiny_bert, tiny_tokenizer):
    e = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, score="probability")
    assert e.score == "probability"
    assert e.output == pytest.approx(e.probabilities[e.target], rel=1e-5)
    assert e.total - (e.output - e.baseline_output) == pytest.approx(e.delta, abs=1e-7)


@pytest.mark.parametrize(
    ("baseline", "replacement"), [("pad", "[PAD]"), ("mask", "[MASK]"), ("unk", "[UNK]")]
)
def test_token_baselines_replace_every_non_special_token(
    tiny_bert, tiny_tokenizer, baseline, replacement
):
    e = integrad.explain(tiny_bert, "great food !", tokenizer=tiny_tokenizer, baseline=baseline)
    base_ids = tiny_tokenizer.convert_tokens_to_ids(["[CLS]", *[replacement] * 3, "[SEP]"])
    mask = torch.ones(1, 5, dtype=torch.long)
    with torch.no_grad():
        f_base = tiny_bert(input_ids=torch.tensor([base_ids]), attention_mask=mask).logits
    assert e.baseline == baseline
    assert e.baseline_output == pytest.approx(float(f_base[0, e.target]), rel=1e-5)
    # Special tokens are the same in input and baseline, so they get exactly zero.
    assert e.special_score == 0.0


def test_zero_baseline_keeps_special_tokens(tiny_bert, tiny_tokenizer):
    e = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, baseline="zero")
    assert e.baseline == "zero" and e.special_score == 0.0
    assert abs(e.delta) < 1e-4 * abs(e.output - e.baseline_output)
    # BERT's [PAD] embedding row is zero (padding_idx), so the two baselines coincide here,
    # while [MASK] has a real embedding.
    assert not tiny_bert.get_input_embeddings().weight[0].any()
    pad = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer)
    mask = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, baseline="mask")
    assert e.baseline_output == pytest.approx(pad.baseline_output, rel=1e-6)
    assert e.baseline_output != pytest.approx(mask.baseline_output, rel=1e-3)


def test_baseline_text_and_token_ids(tiny_bert, tiny_tokenizer):
    text = "great food"
    same = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer, baseline=text)
    # Baseline equal to the input: nothing changes along the path, every score is zero.
    assert same.word_scores == (0.0, 0.0) and same.output == same.baseline_output
    as_text = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer, baseline="bad food")
    ids = tiny_tokenizer("bad food")["input_ids"]
    as_ids = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer, baseline=ids)
    as_tensor = integrad.explain(
        tiny_bert, text, tokenizer=tiny_tokenizer, baseline=torch.tensor(ids)
    )
    assert as_text.baseline == "text: 'bad food'" and as_ids.baseline == "token ids"
    assert as_text.word_scores == as_ids.word_scores == as_tensor.word_scores
    assert as_text.word_scores[1] == 0.0  # "food" is the same in both
    per_text = integrad.explain(
        tiny_bert,
        ["great food", "bad food"],
        tokenizer=tiny_tokenizer,
        baseline=["bad food", "a b"],
    )
    assert per_text[0].word_scores == pytest.approx(as_text.word_scores, rel=1e-4, abs=1e-7)


def test_baseline_errors_say_what_fits(tiny_bert, tiny_tokenizer):
    with pytest.raises(BaselineError, match=r"baseline has 3 tokens but the text has 4"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, baseline="good")
    with pytest.raises(BaselineError, match=r"baseline must be one of pad, mask, unk, eos, zero"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, baseline=1.5)
    tok = type(tiny_tokenizer).from_pretrained(tiny_tokenizer.name_or_path, mask_token=None)
    with pytest.raises(BaselineError, match=r"needs a mask token, but the tokenizer has none"):
        integrad.explain(tiny_bert, "great food", tokenizer=tok, baseline="mask")


@pytest.mark.parametrize("text", ["", "   \n\t", ["great food", " "]])
def test_empty_text_is_refused(tiny_bert, tiny_tokenizer, text):
    with pytest.raises(InputError, match=r"empty or only whitespace"):
        integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer)


def test_missing_text_points_at_the_call_shape():
    with pytest.raises(InputError, match=r"explain\(None, 'great food'\)"):
        integrad.explain("great food")
    with pytest.raises(InputError, match=r"the list of texts is empty"):
        integrad.explain(None, [])


def test_long_text_is_truncated_with_a_warning_and_marked(tiny_bert, tiny_tokenizer):
    text = "great food " * 30  # 60 words, 62 tokens with [CLS] and [SEP]
    with pytest.warns(
        IntegradWarning, match=r"the text has 62 tokens, more than the maximum of 48"
    ):
        e = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer)
    assert e.truncated is True
    assert len(e.tokens) == 48 and e.tokens[-1] == "[SEP]"
    assert len(e.words) == 46
    with pytest.warns(IntegradWarning, match=r"maximum of 10"):
        short = integrad.explain(tiny_bert, text, tokenizer=tiny_tokenizer, max_length=10)
    assert len(short.tokens) == 10


def test_model_that_is_not_a_classifier_is_refused(tiny_tokenizer):
    torch.manual_seed(0)
    encoder = BertModel(make_bert().config).eval()
    with pytest.raises(ModelError, match=r"BertModel is not a sequence classifier"):
        integrad.explain(encoder, "great food", tokenizer=tiny_tokenizer)


def test_tokenizer_larger_than_the_embedding_is_refused(tiny_tokenizer):
    small = make_bert(vocab_size=10)
    with pytest.raises(ModelError, match=rf"has {len(VOCAB)} tokens .* 10 rows"):
        integrad.explain(small, "great food", tokenizer=tiny_tokenizer)


def test_slow_tokenizer_and_unknown_options_are_refused(tiny_bert, tiny_tokenizer):
    class Slow:
        is_fast = False

    with pytest.raises(ModelError, match=r"needs a fast tokenizer.*use_fast=True"):
        integrad.explain(tiny_bert, "great food", tokenizer=Slow())
    with pytest.raises(
        IntegradError, match=r"unknown setting\(s\) 'steps' \(did you mean 'n_steps'\?\)"
    ):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, steps=10)
    with pytest.raises(IntegradError, match=r"explain\(\) sets 'layer' itself"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, layer=None)


def test_engine_options_pass_through(tiny_bert, tiny_tokenizer):
    e = integrad.explain(
        tiny_bert, TEXTS[:2], tokenizer=tiny_tokenizer, method="adaptive", tol=1e-4
    )
    for item in e:
        assert item.method == "adaptive" and item.n_steps is None
        assert item.error_estimate is not None and item.error_estimate < 1e-3
        assert (item.options.method, item.options.tol) == ("adaptive", 1e-4)
    fixed = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, n_steps=8)
    assert fixed.n_evals == 8 and fixed.error_estimate is None
    noisy = integrad.explain(
        tiny_bert,
        "great food",
        tokenizer=tiny_tokenizer,
        n_steps=8,
        noise=integrad.Noise(n_samples=3, level=0.1, seed=1),
    )
    assert noisy.n_evals == 24
    assert noisy.options.noise == integrad.Noise(n_samples=3, level=0.1, seed=1)
    assert noisy.word_scores != pytest.approx(fixed.word_scores)
    assert fixed.token_std is None and fixed.word_std is None
    assert len(noisy.token_std) == len(noisy.tokens) and len(noisy.word_std) == len(noisy.words)
    assert all(s >= 0 for s in noisy.word_std) and max(noisy.word_std) > 0
    assert type(noisy).from_json(noisy.to_json()) == noisy
    calm = integrad.explain(
        tiny_bert,
        "great food",
        tokenizer=tiny_tokenizer,
        n_steps=8,
        noise=integrad.Noise(n_samples=3, level=0.0),
    )
    assert max(calm.word_std) < 1e-6


class _NoTokenTypes(torch.nn.Module):
    """A classifier whose forward takes no token_type_ids and returns a bare tensor."""

    def __init__(self, bert):
        super().__init__()
        self.bert, self.config = bert, bert.config

    def get_input_embeddings(self):
        return self.bert.get_input_embeddings()

    def forward(self, input_ids, attention_mask=None):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).logits


def test_forward_gets_only_the_inputs_it_accepts(tiny_bert, tiny_tokenizer):
    wrapped = integrad.explain(_NoTokenTypes(tiny_bert), TEXTS[:2], tokenizer=tiny_tokenizer)
    direct = integrad.explain(tiny_bert, TEXTS[:2], tokenizer=tiny_tokenizer)
    for a, b in zip(wrapped, direct, strict=True):
        torch.testing.assert_close(_scores(a), _scores(b), rtol=1e-5, atol=1e-7)
        assert a.model_name == "_NoTokenTypes"


@pytest.mark.parametrize("tol", [1e-2, 1e-3])
def test_adaptive_estimate_bounds_the_true_error_on_a_transformer(tiny_bert, tiny_tokenizer, tol):
    enc = tiny_tokenizer(TEXTS, return_tensors="pt", padding=True)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    special = ids.eq(tiny_tokenizer.cls_token_id) | ids.eq(tiny_tokenizer.sep_token_id)
    base = torch.where(special | mask.eq(0), ids, tiny_tokenizer.pad_token_id)
    options = dict(
        baseline={"input_ids": base},
        layer=tiny_bert.get_input_embeddings(),
        target=1,
        forward_kwargs={"attention_mask": mask},
    )
    res = integrad.attribute(tiny_bert, {"input_ids": ids}, method="adaptive", tol=tol, **options)
    reference = integrad.attribute(tiny_bert, {"input_ids": ids}, n_steps=256, **options)
    diff = (res.attributions - reference.attributions).flatten(1).norm(dim=1)
    true_error = diff / reference.attributions.flatten(1).norm(dim=1)
    assert (true_error <= res.error_estimate).all() and (res.error_estimate <= tol).all()
    assert (res.n_evals < 256).all()


def test_renamed_keywords_still_work_for_one_release(tiny_bert, tiny_tokenizer):
    with pytest.warns(DeprecationWarning, match=r"explain\(texts_per_batch=\.\.\.\) is deprecated"):
        old = integrad.explain(tiny_bert, TEXTS, tokenizer=tiny_tokenizer, texts_per_batch=1)
    new = integrad.explain(tiny_bert, TEXTS, tokenizer=tiny_tokenizer)
    for a, b in zip(old, new, strict=True):  # one text per batch: the same scores
        assert a.word_scores == pytest.approx(b.word_scores, rel=1e-4, abs=1e-6)


def test_text_the_tokenizer_does_not_know_gets_a_warning(tiny_bert, tiny_tokenizer):
    with pytest.warns(IntegradWarning, match=r"2 of the 3 tokens of the text are unknown"):
        integrad.explain(tiny_bert, "☀ great ☂", tokenizer=tiny_tokenizer, n_steps=4)


def test_the_neutral_baseline_is_the_candidate_closest_to_uniform(tiny_bert, tiny_tokenizer):
    from integrad.modalities import text_baseline

    ranked = text_baseline.ranking(
        tiny_bert, tiny_tokenizer, tiny_bert.get_input_embeddings(), None
    )
    assert [c.name for c in ranked] == sorted(
        [c.name for c in ranked], key=lambda n: next(c.distance for c in ranked if c.name == n)
    )
    assert {c.name for c in ranked} == {"pad", "mask", "unk", "zero"}
    for c in ranked:  # each distance is what the model predicts at that baseline
        assert c.distance == pytest.approx(0.5 * sum(abs(p - 0.5) for p in c.probabilities))
    e = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, n_steps=4)
    assert e.baseline == f"neutral: {ranked[0].name}"
    forced = integrad.explain(
        tiny_bert, "great food", tokenizer=tiny_tokenizer, n_steps=4, baseline=ranked[-1].name
    )
    assert sum(forced.baseline_probabilities) == pytest.approx(1.0)
    # The baseline's own prediction is recorded; at the neutral one it is the least extreme.
    assert max(e.baseline_probabilities) <= max(forced.baseline_probabilities) + 1e-9


def test_a_baseline_far_from_neutral_is_said_in_every_view(tiny_bert, tiny_tokenizer):
    import copy

    from rich.console import Console

    biased = copy.deepcopy(tiny_bert)
    with torch.no_grad():
        biased.classifier.bias.copy_(torch.tensor([6.0, -6.0]))  # everything reads NEGATIVE
    e = integrad.explain(biased, "great food", tokenizer=tiny_tokenizer, n_steps=4)
    assert e.baseline_probabilities[0] > 0.8 and not e.baseline_neutral
    assert e.baseline_note.startswith("the baseline reads as NEGATIVE (p = ")
    assert e.to_dict()["baseline_note"] == e.baseline_note
    assert "Note: the baseline reads as NEGATIVE" in e.to_html()
    console = Console(record=True, width=200)
    console.print(e)
    assert "note: the baseline reads as NEGATIVE" in console.export_text()
    calm = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, n_steps=4)
    assert calm.baseline_note is None and "Note:" not in calm.to_html()
