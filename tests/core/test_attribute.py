"""The engine on small models: completeness, structures, targets, layers, batching, state."""

import warnings

import pytest
import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

import integrad


def test_completeness_on_mlp(mlp):
    x = torch.randn(4, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x, target=[0, 1, 2, 1])
    assert res.delta.abs().max() < 1e-10
    assert res.n_evals.tolist() == [50] * 4
    torch.testing.assert_close(
        res.output, mlp(x).gather(1, torch.tensor([[0], [1], [2], [1]]))[:, 0]
    )


def test_completeness_on_cnn(cnn):
    torch.manual_seed(1)
    x = torch.rand(3, 3, 8, 8)
    res = integrad.attribute(cnn, x, target="predicted")
    assert res.attributions.shape == x.shape
    assert res.delta.abs().max() < 1e-4
    assert res.target.tolist() == cnn(x).argmax(1).tolist()


def test_batched_equals_one_at_a_time(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    together = integrad.attribute(mlp, x, target=[2, 0, 1])
    for i, t in enumerate([2, 0, 1]):
        alone = integrad.attribute(mlp, x[i : i + 1], target=t)
        torch.testing.assert_close(together.attributions[i : i + 1], alone.attributions)


def test_same_call_twice_is_bit_identical(cnn):
    x = torch.rand(2, 3, 8, 8)
    a = integrad.attribute(cnn, x, target=1, batch_size=7)
    b = integrad.attribute(cnn, x, target=1, batch_size=7)
    assert torch.equal(a.attributions, b.attributions) and torch.equal(a.delta, b.delta)


class Counting(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.rows = inner, []

    def forward(self, x):
        self.rows.append(x.shape[0])
        return self.inner(x)


def test_batch_size_chunks_rows_and_matches_unchunked(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    counting = Counting(mlp)
    chunked = integrad.attribute(counting, x, target=0, n_steps=20, batch_size=16)
    # 1 forward at the input, 1 at the baseline (3 rows), then 60 rows in chunks of 16.
    assert counting.rows == [3, 3, 16, 16, 16, 12]
    whole = integrad.attribute(mlp, x, target=0, n_steps=20, batch_size=60)
    torch.testing.assert_close(chunked.attributions, whole.attributions, rtol=1e-13, atol=1e-13)


def test_memory_budget_picks_the_chunk(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    counting = Counting(mlp)
    small = integrad.attribute(counting, x, target=0, n_steps=10, memory_budget=1)
    # The input (2 rows), the memory probe (1 row), then one row at a time: the baseline
    # values (2 rows) and the 20 gradient rows (one example at a time: even one example's
    # accumulators exceed the budget).
    assert counting.rows == [2, 1] + [1] * 22
    counting.rows.clear()
    default = integrad.attribute(counting, x, target=0, n_steps=10)
    # The probe ran once for this model and row shape in the process: not again.
    assert counting.rows == [2, 2, 20]
    torch.testing.assert_close(small.attributions, default.attributions)


def test_tuple_and_dict_inputs_with_forward_kwargs():
    w1, w2 = torch.tensor([1.0, 2.0]), torch.tensor([3.0])

    def f(a, b, scale=None):
        return (a @ w1 + b @ w2) * scale

    a, b = torch.tensor([[1.0, 1.0], [2.0, 0.0]]), torch.tensor([[2.0], [1.0]])
    scale = torch.tensor([1.0, 2.0])
    res = integrad.attribute(f, (a, b), forward_kwargs={"scale": scale})
    assert isinstance(res.attributions, tuple)
    torch.testing.assert_close(res.attributions[0], a * w1 * scale[:, None])
    torch.testing.assert_close(res.attributions[1], b * w2 * scale[:, None])

    res = integrad.attribute(
        lambda a, b, scale: f(a, b, scale),
        {"a": a, "b": b},
        baseline={"b": 1.0},
        forward_kwargs={"scale": scale},
    )
    assert set(res.attributions) == {"a", "b"}
    torch.testing.assert_close(res.attributions["b"], (b - 1.0) * w2 * scale[:, None])


def test_model_output_and_callable_target():
    lin = nn.Linear(4, 3)
    x = torch.randn(2, 4)

    def hf_like(x):
        return SequenceClassifierOutput(logits=lin(x))

    res = integrad.attribute(hf_like, x, target=[1, 2])
    direct = integrad.attribute(lin, x, target=[1, 2])
    torch.testing.assert_close(res.attributions, direct.attributions)
    margin = integrad.attribute(lin, x, target=lambda out: out[:, 0] - out[:, 1])
    expected = x * (lin.weight[0] - lin.weight[1])
    torch.testing.assert_close(margin.attributions, expected.detach(), rtol=1e-5, atol=1e-6)


def test_probability_score_is_complete(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x, target=1, score="probability")
    torch.testing.assert_close(res.output, mlp(x).softmax(-1)[:, 1])
    assert res.delta.abs().max() < 1e-8


def test_layer_mode_on_embeddings_is_complete(embedding_mlp):
    ids = torch.tensor([[3, 5, 7, 9], [1, 2, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    res = integrad.attribute(
        embedding_mlp,
        ids,
        layer=embedding_mlp.embedding,
        target="predicted",
        forward_kwargs={"attention_mask": mask},
    )
    assert res.attributions.shape == (2, 4, 8)
    f_x = embedding_mlp(ids, mask).gather(1, res.target[:, None])[:, 0]
    f_base = embedding_mlp(torch.zeros_like(ids), mask).gather(1, res.target[:, None])[:, 0]
    total = res.attributions.sum((1, 2))
    torch.testing.assert_close(total, (f_x - f_base).detach(), rtol=1e-4, atol=1e-5)
    assert res.delta.abs().max() < 1e-5


def test_layer_baselines_given_in_activation_space(embedding_mlp):
    ids = torch.tensor([[3, 5, 7]])
    res = integrad.attribute(
        embedding_mlp, ids, layer=embedding_mlp.embedding, target=0, layer_baseline=0.0
    )
    emb = embedding_mlp.embedding(ids).detach()
    assert res.baseline_output.item() == pytest.approx(
        embedding_mlp.mlp(torch.zeros(1, 8))[0, 0].item(), abs=1e-6
    )
    assert res.attributions.shape == emb.shape and res.delta.abs().item() < 1e-5


class TwoModalities(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.head = nn.Linear(6, 1)

    def forward(self, ids, numbers):
        return self.head(torch.cat([self.embedding(ids).mean(1), numbers], 1)).squeeze(1).tanh()


def test_dict_of_layers_attributes_every_input_in_one_pass():
    torch.manual_seed(0)
    model = TwoModalities()
    inputs = {"ids": torch.tensor([[1, 2, 3]]), "numbers": torch.tensor([[0.5, -1.0]])}
    res = integrad.attribute(model, inputs, layer={"ids": model.embedding})
    assert res.attributions["ids"].shape == (1, 3, 4)
    assert res.attributions["numbers"].shape == (1, 2)
    total = res.attributions["ids"].sum() + res.attributions["numbers"].sum()
    assert total.item() == pytest.approx((res.output - res.baseline_output).item(), abs=1e-5)


def test_training_mode_warns_and_is_restored():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    model.train()
    x = torch.randn(2, 4)
    with pytest.warns(integrad.IntegradWarning, match="training mode"):
        a = integrad.attribute(model, x)
    assert model.training and all(p.requires_grad for p in model.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = integrad.attribute(model, x)
    assert torch.equal(a.attributions, b.attributions)
    assert a.delta.abs().max() < 1e-5


def test_no_gradients_leak_into_parameters(mlp):
    integrad.attribute(mlp, torch.randn(2, 5, dtype=torch.float64), target=0)
    assert all(p.grad is None for p in mlp.parameters())


def test_unused_input_gets_zero_attribution_and_a_warning():
    with pytest.warns(integrad.IntegradWarning, match=r"input 1 does not reach the model"):
        res = integrad.attribute(lambda a, b: a.sum(1), (torch.ones(1, 2), torch.ones(1, 3)))
    assert torch.equal(res.attributions[1], torch.zeros(1, 3))


def test_to_dict_is_json_ready(mlp):
    res = integrad.attribute(mlp, torch.randn(1, 5, dtype=torch.float64), target=0)
    d = res.to_dict()
    assert d["options"]["method"] == "gausslegendre" and d["options"]["n_steps"] == 50
    assert d["attributions"]["shape"] == [1, 5] and d["type"] == "Attribution"
    assert '"delta"' in res.to_json()
    again = integrad.Attribution.from_json(res.to_json())
    assert again == res and again.attributions.dtype == torch.float64
