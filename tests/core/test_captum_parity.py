"""Parity with Captum, a second implementation, on the rules it gets right."""

import pytest
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients

import integrad

CAPTUM_RULES = ["gausslegendre", "riemann_left", "riemann_right", "riemann_middle"]


def _assert_relative(ours, theirs, tol=1e-5):
    err = (ours.double() - theirs.double()).norm() / theirs.double().norm()
    assert err < tol, f"relative L2 difference {err:.2e}"


@pytest.mark.parametrize("rule", CAPTUM_RULES)
def test_inputs_match_captum_on_cnn(cnn, rule):
    torch.manual_seed(2)
    x, base = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8) * 0.1
    target = [0, 3, 4]
    ours = integrad.attribute(cnn, x, baseline=base, target=target, method=rule, n_steps=24)
    theirs = IntegratedGradients(cnn).attribute(x, base, target=target, method=rule, n_steps=24)
    _assert_relative(ours.attributions, theirs)


@pytest.mark.parametrize("rule", CAPTUM_RULES)
def test_embedding_layer_matches_captum(embedding_mlp, rule):
    ids = torch.tensor([[3, 5, 7, 9, 2], [1, 2, 3, 4, 0]])
    base = torch.tensor([[0, 19, 19, 19, 0], [0, 19, 19, 19, 0]])
    mask = torch.ones_like(ids, dtype=torch.float32)
    ours = integrad.attribute(
        embedding_mlp,
        ids,
        baseline=base,
        target=[2, 1],
        method=rule,
        n_steps=32,
        layer=embedding_mlp.embedding,
        forward_kwargs={"attention_mask": mask},
    )
    lig = LayerIntegratedGradients(embedding_mlp, embedding_mlp.embedding)
    theirs = lig.attribute(
        ids, base, target=[2, 1], method=rule, n_steps=32, additional_forward_args=(mask,)
    )
    _assert_relative(ours.attributions, theirs)


def test_trapezoid_is_exact_where_captums_is_low_by_one_over_n():
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([[2.0, 1.0, 4.0]], dtype=torch.float64)

    def linear(x):
        return x @ w

    exact = w * x
    ours = integrad.attribute(linear, x, method="riemann_trapezoid", n_steps=50)
    theirs = IntegratedGradients(linear).attribute(x, method="riemann_trapezoid", n_steps=50)
    torch.testing.assert_close(ours.attributions, exact, rtol=1e-12, atol=1e-12)
    # Captum builds its weights in float32, hence the looser tolerance on its side.
    torch.testing.assert_close(theirs, exact * 49 / 50, rtol=1e-6, atol=1e-6)
