"""integrad.compat.captum.NoiseTunnel after the noise cases of Captum's Integrated Gradients test
files (rewritten here): the noise is drawn as Captum draws it, so the same seed gives Captum's
numbers; the three kinds against their closed forms on a linear model; vanishing noise."""

import copy

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import LayerIntegratedGradients as CaptumLIG
from captum.attr import NoiseTunnel as CaptumNoiseTunnel

import integrad
from integrad.compat.captum import IntegratedGradients, LayerIntegratedGradients, NoiseTunnel
from tests.captum_models import ThreeLayers
from tests.compat.parity import assert_same

KINDS = ["smoothgrad", "smoothgrad_sq", "vargrad"]
X = torch.tensor([[1.5, 2.1, 1.9], [0.5, 0.0, 0.7], [1.5, 2.1, 1.1]])
Y = torch.tensor([[0.3, 1.9, 2.4], [0.5, 0.6, 2.1], [1.2, 2.1, 0.2]])


def _seeded(tunnel, inputs, seed=0, **kwargs):
    torch.manual_seed(seed)
    np.random.seed(seed)
    return tunnel.attribute(inputs, **kwargs)


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_captums_numbers(kind, batch_size):
    net = ThreeLayers()
    settings = {"nt_type": kind, "nt_samples": 5, "nt_samples_batch_size": batch_size,
                "target": [0, 1, 0], "n_steps": 20, "return_convergence_delta": True}  # fmt: skip
    # Two inputs with their own noise levels, through the model's extra argument.
    ours, delta = _seeded(
        NoiseTunnel(IntegratedGradients(net)), (X, Y), stdevs=(0.3, 0.1), **settings
    )
    theirs, their_delta = _seeded(
        CaptumNoiseTunnel(CaptumIG(net)), (X, Y), stdevs=(0.3, 0.1), **settings
    )
    if kind == "vargrad":
        # Captum's E[a^2] - E[a]^2 in float32 cancels digits; integrad's variance keeps them.
        exact = NoiseTunnel(IntegratedGradients(copy.deepcopy(net).double()))
        truth = _seeded(exact, (X.double(), Y.double()), stdevs=(0.3, 0.1), **settings)[0]
        assert_same(ours, tuple(t.float() for t in truth), rtol=1e-6)
        assert_same(theirs, tuple(t.float() for t in truth), rtol=1e-4)
    else:
        assert_same(ours, theirs)
    assert delta.shape == their_delta.shape == (15,)  # one per sample, in Captum's order
    torch.testing.assert_close(delta, their_delta, rtol=0, atol=1e-5)
    # A layer: the noise still goes on the model's inputs.
    ours = _seeded(
        NoiseTunnel(LayerIntegratedGradients(net, net.hidden)), X, stdevs=0.2, **settings
    )
    theirs = _seeded(CaptumNoiseTunnel(CaptumLIG(net, net.hidden)), X, stdevs=0.2, **settings)
    assert_same(ours[0], theirs[0], rtol=1e-4 if kind == "vargrad" else 1e-5)


def test_baselines_drawn_from_a_set_are_captums():
    net = ThreeLayers()
    background = torch.rand(7, 3, generator=torch.Generator().manual_seed(1))
    settings = {"nt_samples": 4, "stdevs": 0.1, "baselines": background, "target": 1,
                "draw_baseline_from_distrib": True, "n_steps": 16}  # fmt: skip
    ours = _seeded(NoiseTunnel(IntegratedGradients(net)), X, seed=3, **settings)
    theirs = _seeded(CaptumNoiseTunnel(CaptumIG(net)), X, seed=3, **settings)
    assert_same(ours, theirs)


def test_the_kinds_against_their_closed_forms_on_a_linear_model():
    # f(x) = w.x: each sample's attributions are w * (x + noise - baseline), exactly.
    w = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0, -1.0, 0.5], [0.0, 1.0, 2.0, -2.0]], dtype=torch.float64)
    base, sigma, n = 0.5, 0.5, 4000
    tunnel = NoiseTunnel(IntegratedGradients(lambda z: z @ w))
    got = {
        kind: _seeded(
            tunnel, x, nt_type=kind, nt_samples=n, stdevs=sigma, baselines=base, n_steps=1
        )
        for kind in KINDS
    }
    mean = w * (x - base)
    # The sample mean of the noise is within a few standard errors sigma / sqrt(n) of zero.
    assert ((got["smoothgrad"] - mean).abs() <= 4 * w.abs() * sigma / n**0.5).all()
    torch.testing.assert_close(got["vargrad"], (w * sigma) ** 2 + 0 * x, rtol=0.12, atol=0)
    torch.testing.assert_close(
        got["smoothgrad_sq"], mean**2 + (w * sigma) ** 2, rtol=0.12, atol=0.05
    )
    # With one seed the three come from the same samples: var = E[a^2] - E[a]^2 exactly.
    torch.testing.assert_close(got["vargrad"], got["smoothgrad_sq"] - got["smoothgrad"] ** 2)


def test_vanishing_noise_gives_plain_ig_its_square_and_zero():
    net = ThreeLayers()
    plain = IntegratedGradients(net).attribute(X, target=0, n_steps=20)
    for kind, expected in zip(KINDS, (plain, plain**2, 0 * plain), strict=True):
        got = _seeded(NoiseTunnel(IntegratedGradients(net)), X, nt_type=kind, stdevs=0.0,
                      target=0, n_steps=20)  # fmt: skip
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    # Without the factor, times the inputs (the baseline is zero) gives the same.
    bare = NoiseTunnel(IntegratedGradients(net, multiply_by_inputs=False))
    assert not bare.multiplies_by_inputs and bare.has_convergence_delta()
    torch.testing.assert_close(bare.attribute(X, stdevs=0.0, target=0, n_steps=20) * X, plain)


def test_what_the_tunnel_refuses(embedding_mlp):
    ids = torch.tensor([[3, 5, 7, 9]])
    lig = NoiseTunnel(LayerIntegratedGradients(embedding_mlp, embedding_mlp.embedding))
    with pytest.raises(integrad.InputError, match=r"noise.*token ids.*integrad\.Noise"):
        lig.attribute(ids, target=0)
    tunnel = NoiseTunnel(IntegratedGradients(ThreeLayers()))
    with pytest.raises(integrad.IntegradError, match="unknown noise kind 'gauss'"):
        tunnel.attribute(X, nt_type="gauss", target=0)
    with pytest.raises(integrad.IntegradError, match="stdevs has 2 values for 1 inputs"):
        tunnel.attribute(X, stdevs=(0.1, 0.2), target=0)
    with pytest.raises(integrad.ModelError, match="NoiseTunnel wraps"):
        NoiseTunnel(CaptumIG(ThreeLayers()))
