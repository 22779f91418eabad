"""explain_multimodal: one pass over text, numbers and categories, complete across all."""

import pytest
import torch
from torch import nn

import integrad
from integrad.errors import InputError, LayerError

MODALITIES = {"input_ids": "text", "numbers": "numbers", "categories": "categories"}


@pytest.fixture(scope="module")
def train(examples_train):
    return examples_train


@pytest.fixture(scope="module")
def reviews(train):
    """The example's review model (briefly trained), its tokenizer and 5 held-out inputs."""
    model, tokenizer, data = train.train_reviews(n=300, epochs=2)
    model.requires_grad_(False)
    inputs = {
        **tokenizer(data.texts[:5]),
        "numbers": data.numbers[:5].float(),
        "categories": data.categories[:5],
    }
    return model, tokenizer, inputs


def explain(model, inputs, **kwargs):
    layer = {"input_ids": model.text_embedding, "categories": model.category_embedding}
    return integrad.explain_multimodal(model, inputs, layer=layer, **kwargs)


def test_completeness_holds_across_every_modality(reviews):
    model, tokenizer, inputs = reviews
    exp = explain(
        model,
        inputs,
        baseline={"numbers": model.numbers_mean},
        target=1,
        modalities=MODALITIES,
        tokenizer=tokenizer,
    )
    moved = exp.output - exp.baseline_output
    total = sum(exp.modality_totals.values())
    torch.testing.assert_close(total.float(), (moved + exp.delta).float(), atol=1e-5, rtol=0)
    assert (exp.delta.abs() < 1e-4 * moved.abs().clamp_min(1)).all()
    shares = sum(exp.shares.values())
    torch.testing.assert_close(shares, 1 - exp.delta / moved, atol=1e-5, rtol=0)
    # Per-feature scores add up to their modality's total (padding scores are zero here).
    for i, features in enumerate(exp.features):
        for modality, totals in exp.modality_totals.items():
            listed = sum(f.score for f in features if f.modality == modality)
            assert abs(listed - float(totals[i])) < 1e-5


def test_scores_equal_the_core_attribution_summed_over_the_embedding(reviews):
    model, _, inputs = reviews
    exp = explain(model, inputs, target=0)
    core = integrad.attribute(
        model,
        {k: v for k, v in inputs.items() if k != "attention_mask"},
        layer={"input_ids": model.text_embedding, "categories": model.category_embedding},
        layer_baseline={"input_ids": 0.0, "categories": 0.0},
        target=0,
        forward_kwargs={"attention_mask": inputs["attention_mask"]},
    )
    summed = {k: core.attributions[k].sum(-1).double() for k in ("input_ids", "categories")}
    torch.testing.assert_close(exp.scores["input_ids"], summed["input_ids"])
    torch.testing.assert_close(exp.scores["categories"], summed["categories"])
    torch.testing.assert_close(exp.scores["numbers"], core.attributions["numbers"].double())
    torch.testing.assert_close(exp.delta, core.delta)


def test_masks_are_fixed_and_padding_is_not_listed(reviews):
    model, tokenizer, inputs = reviews
    exp = explain(model, inputs, tokenizer=tokenizer, target=1)
    assert exp.fixed == ["attention_mask"] and "attention_mask" not in exp.scores
    mask = inputs["attention_mask"]
    assert (mask == 0).any()  # the batch is padded
    for i, features in enumerate(exp.features):
        tokens = [f.name for f in features if f.input == "input_ids"]
        ids = inputs["input_ids"][i][mask[i].bool()].tolist()
        assert tokens == tokenizer.convert_ids_to_tokens(ids)
    assert (exp.scores["input_ids"][mask == 0] == 0).all()


def test_names_and_values_label_numbers_and_categories(reviews, train):
    model, _, inputs = reviews
    values = [
        [train.CATEGORIES["category"][c], train.CATEGORIES["shipping"][s]]
        for c, s in inputs["categories"].tolist()
    ]
    exp = explain(
        model,
        inputs,
        names={"numbers": train.NUMBERS, "categories": ["cat", "ship"]},
        values={"categories": values},
    )
    numbers = [f for f in exp.features[0] if f.input == "numbers"]
    assert [f.name for f in numbers] == ["price", "delivery_days"]
    assert numbers[0].value == f"{float(inputs['numbers'][0, 0]):.4g}"
    categories = [f for f in exp.features[2] if f.input == "categories"]
    assert [f.value for f in categories] == values[2]
    # Without names, positions are numbered; token inputs show no value.
    plain = explain(model, inputs)
    assert [f.name for f in plain.features[0] if f.input == "numbers"] == [
        "numbers[0]",
        "numbers[1]",
    ]
    with pytest.raises(InputError, match="names/values for 'numbers' give 1 entries but"):
        explain(model, inputs, names={"numbers": ["price"]})


def test_pad_ids_recorded_through_the_embedding_equal_zero_embeddings(reviews):
    model, _, inputs = reviews
    # The example's embedding has padding_idx=0: pad ids embed to zero vectors.
    pads = explain(model, inputs, baseline={"input_ids": torch.zeros_like(inputs["input_ids"])})
    zeros = explain(model, inputs)
    torch.testing.assert_close(pads.scores["input_ids"], zeros.scores["input_ids"])
    # Mixed: pad ids recorded for the text, a given activation for the categories.
    mean_category = model.category_embedding.weight.mean(0).expand(5, 2, -1)
    shifted = explain(
        model,
        inputs,
        baseline={"input_ids": torch.zeros_like(inputs["input_ids"])},
        layer_baseline={"categories": mean_category},
        target=1,
    )
    hook = model.category_embedding.register_forward_hook(lambda m, a, out: mean_category)
    try:
        at_baseline = model(
            **{
                **inputs,
                "input_ids": torch.zeros_like(inputs["input_ids"]),
                "numbers": torch.zeros_like(inputs["numbers"]),
            }
        )
    finally:
        hook.remove()
    torch.testing.assert_close(shifted.baseline_output, at_baseline[:, 1].double())
    moved = shifted.output - shifted.baseline_output
    total = sum(shifted.modality_totals.values()).float()
    torch.testing.assert_close(total, (moved + shifted.delta).float(), atol=1e-5, rtol=0)


def test_modalities_group_inputs(reviews):
    model, _, inputs = reviews
    exp = explain(model, inputs, modalities={"numbers": "tabular", "categories": "tabular"})
    assert list(exp.modality_totals) == ["input_ids", "tabular"]
    expected = exp.scores["numbers"].sum(1) + exp.scores["categories"].sum(1)
    torch.testing.assert_close(exp.modality_totals["tabular"], expected)


def test_noise_goes_on_the_embeddings_and_is_seeded(reviews):
    model, _, inputs = reviews
    noise = integrad.Noise(n_samples=3, level=0.2, seed=0)
    a = explain(model, inputs, noise=noise, target=1, n_steps=10)
    b = explain(model, inputs, noise=noise, target=1, n_steps=10)
    torch.testing.assert_close(a.scores["input_ids"], b.scores["input_ids"], atol=0, rtol=0)
    assert a.features[0][0].std is not None and a.std["input_ids"].max() > 0
    assert a.target.tolist() == [1] * 5
    quiet = explain(model, inputs, noise=integrad.Noise(2, 0.0), target=1, n_steps=10)
    assert all(s.abs().max() == 0 for s in quiet.std.values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layer": {}}, r"input 'input_ids' holds integers .* layer=\{'input_ids'"),
        ({"layer": {"words": None}}, r"layer names \['words'\], which are not among the inputs"),
        ({"inputs": {}}, "inputs must be a non-empty dict"),
        ({"numbers": [[1.0, 2.0]]}, "input 'numbers' is a list, not a tensor"),
    ],
)
def test_bad_inputs_are_refused(reviews, change, message):
    model, _, inputs = reviews
    kwargs = {"layer": {"input_ids": model.text_embedding, "categories": model.category_embedding}}
    kwargs.update({k: v for k, v in change.items() if k == "layer"})
    given = change.get("inputs", {**inputs, **{k: v for k, v in change.items() if k in inputs}})
    with pytest.raises(InputError, match=message):
        integrad.explain_multimodal(model, given, **kwargs)


class Bag(nn.Module):
    """Token ids pooled by an EmbeddingBag: no per-token output to attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(5, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, input_ids):
        return self.head(self.bag(input_ids))


def test_layers_that_lose_positions_are_refused():
    model = Bag()
    ids = {"input_ids": torch.tensor([[1, 2, 3]])}
    with pytest.raises(LayerError, match=r"outputs shape \(1, 4\), which does not start with"):
        integrad.explain_multimodal(model, ids, layer={"input_ids": model.bag})
    with pytest.raises(LayerError, match="a list of 2 modules, one per column, but the input"):
        integrad.explain_multimodal(model, ids, layer={"input_ids": [model.bag, model.bag]})
