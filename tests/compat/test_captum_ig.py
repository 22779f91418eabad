"""integrad.compat.captum.IntegratedGradients against Captum's own, after the cases of Captum's
Integrated Gradients test files (rewritten here): one and several inputs, extra positional
arguments (tensors, ints, lists), baselines as numbers or tensors of one or every example,
batches, internal batching, classifiers; the deliberate differences shown exactly."""

import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from torch import nn

import integrad
from integrad.compat.captum import IntegratedGradients, LayerIntegratedGradients
from tests.captum_models import (
    ExtraArguments,
    ListArguments,
    PaperExample,
    Ramp,
    SummedPair,
    ThreeLayers,
)
from tests.compat.parity import CAPTUM_RULES, assert_same

PAIR = (
    torch.tensor([[1.5, 2.0, 34.3], [3.4, 1.2, 2.0]]),
    torch.tensor([[3.0, 3.5, 23.2], [2.3, 1.2, 0.3]]),
)
BATCH = torch.tensor([[1.5, 2.0, 1.3], [0.5, 0.1, 2.3], [1.5, 2.0, 1.3]])


def _classifier(last: nn.Module) -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 10), last)


CASES = {
    "paper example, one value per example": (
        PaperExample(), (torch.tensor([3.0]), torch.tensor([1.0])), {"baselines": (0.0, 0.0)}
    ),
    "one input, a tiny baseline": (Ramp(), torch.tensor([-1.0]), {"baselines": 1e-5}),
    "tensor and number baselines, an extra tensor argument": (
        ExtraArguments(), PAIR, {"baselines": (torch.zeros(2, 3), 0.0),
                                 "additional_forward_args": (torch.arange(1.0, 7.0).view(2, 3), 1)},
    ),
    "a list and an int as extra arguments, a baseline of one example": (
        ListArguments(), PAIR, {"baselines": (torch.zeros(1, 3), 1e-5),
                                "additional_forward_args": ([2, 3], 1)},
    ),
    "two inputs through their sum": (SummedPair(), (PAIR[0] / 10, PAIR[1] / 10), {}),
    "a batch with one target": (ThreeLayers(), BATCH, {"target": 0}),
    "two inputs, one added to the other": (ThreeLayers(), (BATCH, BATCH / 2), {"target": 1}),
    "a sigmoid classifier": (_classifier(nn.Sigmoid()), torch.arange(10.0)[None], {"target": 4}),
    "a softmax classifier, one target per example": (
        _classifier(nn.Softmax(dim=1)), torch.stack([torch.arange(10.0), torch.ones(10)]),
        {"target": [5, 2]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("method", CAPTUM_RULES)
@pytest.mark.parametrize("case", CASES)
def test_attributions_and_deltas_are_captums(case, method):
    model, inputs, kwargs = CASES[case]
    ours, delta = IntegratedGradients(model).attribute(
        inputs, **kwargs, method=method, n_steps=40, return_convergence_delta=True
    )
    theirs, their_delta = CaptumIG(model).attribute(
        inputs, **kwargs, method=method, n_steps=40, return_convergence_delta=True
    )
    assert_same(ours, theirs)
    n = (inputs if isinstance(inputs, torch.Tensor) else inputs[0]).shape[0]
    assert delta.shape == their_delta.shape == (n,) and delta.dtype == their_delta.dtype
    # Captum sums its float32 attributions in float32; integrad in float64, so a little apart.
    torch.testing.assert_close(delta, their_delta, rtol=0, atol=2e-5)
    again = IntegratedGradients(model).compute_convergence_delta(
        ours,
        kwargs.get("baselines"),
        inputs,
        target=kwargs.get("target"),
        additional_forward_args=kwargs.get("additional_forward_args"),
    )
    torch.testing.assert_close(again, delta, rtol=0, atol=1e-6)


def test_the_papers_example_in_closed_form_with_and_without_the_factor():
    inputs = (torch.tensor([3.0]), torch.tensor([1.0]))
    steps = {"method": "riemann_middle", "n_steps": 500}
    full = IntegratedGradients(PaperExample()).attribute(inputs, **steps)
    bare = IntegratedGradients(PaperExample(), multiply_by_inputs=False)
    assert not bare.multiplies_by_inputs and bare.has_convergence_delta()
    plain, delta = bare.attribute(inputs, **steps, return_convergence_delta=True)
    torch.testing.assert_close(torch.cat(full), torch.tensor([1.5, -0.5]), atol=0.01, rtol=0)
    torch.testing.assert_close(torch.cat(plain), torch.tensor([0.5, -0.5]), atol=0.01, rtol=0)
    theirs = CaptumIG(PaperExample(), multiply_by_inputs=False).attribute(inputs, **steps)
    assert_same(plain, theirs)
    # The delta checks the multiplied attributions, so it stays small without the factor.
    assert abs(float(delta)) < 1e-2


@pytest.mark.parametrize("n_steps", [2, 7, 50])
def test_trapezoid_is_the_composite_rule_and_captums_is_low_by_one_over_n(n_steps):
    model = ThreeLayers()
    ours = IntegratedGradients(model).attribute(
        BATCH, target=0, method="riemann_trapezoid", n_steps=n_steps
    )
    theirs = CaptumIG(model).attribute(BATCH, target=0, method="riemann_trapezoid", n_steps=n_steps)
    # Same points; Captum's weights are 1/n with halved ends, ours 1/(n-1): exactly n/(n-1).
    assert_same(ours, theirs * n_steps / (n_steps - 1), rtol=1e-6)
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([[2.0, 1.0, 4.0]], dtype=torch.float64)
    exact = IntegratedGradients(lambda z: z @ w).attribute(
        x, method="riemann_trapezoid", n_steps=n_steps
    )
    torch.testing.assert_close(exact, w * x, rtol=1e-12, atol=1e-12)


def test_a_batch_equals_its_examples_one_at_a_time_for_every_internal_batch_size():
    ig = IntegratedGradients(ThreeLayers())
    for internal_batch_size in (None, 10, 20):
        settings = {"target": 0, "n_steps": 30, "internal_batch_size": internal_batch_size}
        batch, delta = ig.attribute(BATCH, **settings, return_convergence_delta=True)
        for i in range(3):
            one = ig.attribute(BATCH[i : i + 1], **settings)
            torch.testing.assert_close(batch[i : i + 1], one)
        assert delta.shape == (3,)


def test_adaptive_integration_is_an_addition(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    ig = IntegratedGradients(mlp)
    fine = CaptumIG(mlp).attribute(x, target=0, n_steps=64)  # smooth: converged
    adaptive, delta = ig.attribute(
        x, target=0, method="adaptive", tol=1e-6, return_convergence_delta=True
    )
    assert_same(adaptive, fine, rtol=1e-5)
    assert delta.abs().max() < 1e-6
    with pytest.raises(integrad.IntegradError, match="n_steps applies to fixed rules"):
        ig.attribute(x, target=0, method="adaptive", n_steps=50)


def test_inputs_that_require_grad_and_no_grad_blocks_give_the_same_answer():
    model = ThreeLayers()
    plain = IntegratedGradients(model).attribute(BATCH, target=1)
    leaf = BATCH.clone().requires_grad_()
    attributions, delta = IntegratedGradients(model).attribute(
        leaf, target=1, return_convergence_delta=True
    )
    assert delta.grad_fn is None  # as Captum's: computed without a graph
    with torch.no_grad():
        quiet = IntegratedGradients(model).attribute(BATCH, target=1)
    torch.testing.assert_close(attributions.detach(), plain)
    torch.testing.assert_close(quiet, plain)


def test_token_ids_are_refused_with_the_layer_to_use_instead(embedding_mlp):
    ids = torch.tensor([[3, 5, 7, 9]])
    with pytest.raises(
        integrad.InputError,
        match=r"token ids.*LayerIntegratedGradients\(model, model\.get_input_embeddings\(\)\)",
    ):
        IntegratedGradients(embedding_mlp).attribute(ids, baselines=torch.zeros_like(ids), target=1)
    # The one-line change: the same call on the layer the ids go through.
    lig = LayerIntegratedGradients(embedding_mlp, embedding_mlp.embedding)
    attributions = lig.attribute(ids, baselines=torch.zeros_like(ids), target=1)
    assert attributions.shape == (1, 4, 8)


def test_a_pipeline_is_refused_with_its_parts_named(tiny_bert, tiny_tokenizer):
    from transformers import pipeline

    pipe = pipeline("text-classification", model=tiny_bert, tokenizer=tiny_tokenizer)
    with pytest.raises(
        integrad.ModelError,
        match=r"pipeline.*pipe\.model\.get_input_embeddings\(\).*integrad\.explain\(pipe, text\)",
    ):
        IntegratedGradients(pipe)
