"""What every front end shares: the model runs only where it must, every one takes the same
settings, and every result type goes to JSON and back."""

import functools
import json

import pandas as pd
import pytest
import torch
from torch import nn

import integrad
from tests.modalities.test_generation import PROMPT
from tests.tiny_lm import make_llama, make_tokenizer


class Rows(nn.Module):
    """Records the rows of every forward call of the module it wraps."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.rows = inner, []

    def forward(self, *args, **kwargs):
        first = args[0] if args else next(iter(kwargs.values()))
        self.rows.append(first.shape[0])
        return self.inner(*args, **kwargs)


class Shop(nn.Module):
    """Numbers and category ids (through an embedding) -> 2 logits."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(6, 4)
        self.head = nn.Sequential(nn.Linear(3 + 2 * 4, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, numbers, categories):
        embedded = self.embedding(categories).flatten(1)
        return self.head(torch.cat([numbers, embedded], 1))


def test_text_runs_the_model_on_the_input_the_baseline_and_the_path_only(
    tiny_bert, tiny_tokenizer, fresh_probes
):
    rows: list[int] = []

    def record(module, args, kwargs, output):
        rows.append(kwargs["input_ids"].shape[0])

    handle = tiny_bert.register_forward_hook(record, with_kwargs=True)
    try:
        texts = ["great food", "bad service"]  # one length: one bucket of 2
        explain = functools.partial(integrad.explain, tiny_bert, texts, tokenizer=tiny_tokenizer)
        explain(n_steps=8, baseline="pad")
        first = list(rows)
        rows.clear()
        explain(n_steps=8, baseline="pad")
        second = list(rows)
        explain(n_steps=8)  # the neutral baseline: its candidates are ranked once per model
        rows.clear()
        explain(n_steps=8)
    finally:
        handle.remove()
    # F(x) (2 rows), the memory probe (1 row, once per model and shape), F(x') (2 rows),
    # the 8 points of both texts (16 rows): no other forward, no recording at the baseline
    # (its embeddings come from the embedding module alone).
    assert first == [2, 1, 2, 16]
    assert second == [2, 2, 16]
    assert rows == [2, 2, 16]


def test_image_tabular_and_multimodal_calls_are_counted(cnn, fresh_probes):
    images = torch.rand(2, 3, 8, 8)
    model = Rows(cnn)
    integrad.explain_image(model, images, n_steps=5)
    assert model.rows == [2, 1, 2, 10]
    model.rows.clear()
    integrad.explain_image(model, images, baseline=["black", "white"], n_steps=5)
    # Two baselines: the batch twice, in one engine call.
    assert model.rows == [4, 1, 4, 20]

    shop = Rows(Shop())
    inputs = {"numbers": torch.randn(3, 3), "categories": torch.tensor([[0, 1], [2, 3], [4, 5]])}
    integrad.explain_multimodal(shop, inputs, layer={"categories": shop.inner.embedding}, n_steps=4)
    # The embedding's baseline is given in its own space (zeros): no recording forward.
    assert shop.rows == [3, 1, 3, 12]

    mlp = Rows(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)))
    frame = pd.DataFrame(torch.randn(4, 3).numpy(), columns=["a", "b", "c"])
    integrad.explain_tabular(mlp, frame, n_steps=3)
    assert mlp.rows == [4, 1, 4, 12]


def explain_each(**settings):
    """One result of every front end with the same settings."""
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    frame = pd.DataFrame(torch.randn(2, 3).numpy(), columns=["a", "b", "c"])
    shop = Shop()
    inputs = {"numbers": torch.randn(2, 3), "categories": torch.tensor([[0, 1], [2, 3]])}
    tok = make_tokenizer()
    return {
        "attribute": integrad.attribute(mlp, torch.randn(2, 3), **settings),
        "image": integrad.explain_image(cnn, torch.rand(2, 3, 6, 6), **settings),
        "tabular": integrad.explain_tabular(mlp, frame, **settings),
        "multimodal": integrad.explain_multimodal(
            shop, inputs, layer={"categories": shop.embedding}, **settings
        ),
        "generation": integrad.explain_generation(
            make_llama(len(tok)), PROMPT, tokenizer=tok, target="the dog", **settings
        ),
    }


def evals_of(result):
    n = result.n_evals
    return [int(v) for v in (n.tolist() if isinstance(n, torch.Tensor) else [n])]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"method": "riemann_middle", "n_steps": 5}, {"method": "riemann_middle", "n_steps": 5}),
        ({"n_steps": 6}, {"method": "gausslegendre", "n_steps": 6}),
        ({"tol": 1e-2}, {"method": "adaptive", "tol": 1e-2, "max_evals": 2000}),
        ({"method": "adaptive", "max_evals": 40}, {"tol": 1e-3, "max_evals": 40}),
        ({"n_steps": 4, "noise": 2}, {"noise": integrad.Noise(n_samples=2)}),
        ({"n_steps": 4, "batch_size": 3, "memory_budget": 10**6}, {"batch_size": 3}),
        ({"n_steps": 4, "score": "prob"}, {"score": "probability"}),
    ],
)
def test_every_front_end_takes_the_same_settings(settings, expected, tiny_bert, tiny_tokenizer):
    results = explain_each(**settings)
    results["text"] = integrad.explain(
        tiny_bert, "great food", tokenizer=tiny_tokenizer, **settings
    )
    for name, result in results.items():
        options = result.options
        for key, value in expected.items():
            assert getattr(options, key) == value, (name, key)
        if not options.adaptive:
            per_sample = options.n_steps * (options.noise.n_samples if options.noise else 1)
            assert set(evals_of(result)) == {per_sample}, name
        else:
            assert max(evals_of(result)) <= options.max_evals, name


def test_every_front_end_refuses_a_misspelled_setting_the_same_way(tiny_bert, tiny_tokenizer):
    with pytest.raises(integrad.IntegradError, match=r"'n_step' \(did you mean 'n_steps'\?\)"):
        explain_each(n_step=4)
    with pytest.raises(integrad.IntegradError, match=r"explain\(\) got unknown setting"):
        integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer, n_step=4)


def test_every_result_type_goes_to_json_and_back(tiny_bert, tiny_tokenizer):
    results = explain_each(n_steps=4, noise=integrad.Noise(n_samples=2, level=0.1))
    results["text"] = integrad.explain(
        tiny_bert, ["great food", "bad service"], tokenizer=tiny_tokenizer, n_steps=4
    )
    results["one text"] = results["text"][0]
    results["one prompt"] = results["generation"]
    for name, result in results.items():
        text = result.to_json()
        again = type(result).from_json(text)
        assert again == result, name
        assert integrad.load_result(text) == result, name
        assert type(integrad.load_result(result.to_dict())) is type(result)
        changed = json.loads(text)
        (changed["items"][0] if "items" in changed else changed)["baseline"] = "another"
        assert type(result).from_dict(changed) != result, name  # equality reads the content
    with pytest.raises(integrad.InputError, match=r"this is a TextExplanation, not a"):
        integrad.ImageExplanation.from_json(results["one text"].to_json())
