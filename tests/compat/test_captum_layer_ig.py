"""integrad.compat.captum.LayerIntegratedGradients against Captum's own, after the cases of
Captum's Layer Integrated Gradients test file (rewritten here): token ids through embeddings
with extra arguments, lists of layers, layers returning tuples, layer inputs, layers that do
not reach the output, and attributions without the factor."""

import pytest
import torch
from captum.attr import LayerIntegratedGradients as CaptumLIG

import integrad
from integrad.compat.captum import LayerIntegratedGradients
from tests.captum_models import ThreeLayers, TwoBranches, TwoEmbeddings
from tests.compat.parity import CAPTUM_RULES, assert_same

IDS = (
    torch.tensor([[2, 5, 0, 1], [3, 1, 1, 0]]),
    torch.tensor([[0, 2, 4, 1], [2, 3, 5, 7]]),
    torch.tensor([[3, 5, 6, 7], [2, 3, 0, 1]]),
)


def _both(model, layer, inputs, multiply_by_inputs=True, **kwargs):
    """(ours, Captum's) attributions and deltas for the same call."""
    ours = LayerIntegratedGradients(model, layer, multiply_by_inputs=multiply_by_inputs)
    theirs = CaptumLIG(model, layer, multiply_by_inputs=multiply_by_inputs)
    kwargs["return_convergence_delta"] = True
    return ours.attribute(inputs, **kwargs), theirs.attribute(inputs, **kwargs)


@pytest.mark.parametrize("method", CAPTUM_RULES)
@pytest.mark.parametrize("multiply_by_inputs", [True, False])
def test_token_ids_at_an_embedding_with_extra_arguments(method, multiply_by_inputs):
    net = TwoEmbeddings()
    (ours, delta), (theirs, their_delta) = _both(
        net, net.embedding1, IDS[0], multiply_by_inputs,
        baselines=torch.zeros(1, 4, dtype=torch.long), additional_forward_args=IDS[1:],
        method=method, n_steps=20,
    )  # fmt: skip
    assert_same(ours, theirs)
    if multiply_by_inputs:  # Captum's delta without the factor compares unlike things
        torch.testing.assert_close(delta, their_delta, rtol=0, atol=1e-5)
    assert delta.shape == (2,) and delta.abs().max() < 0.05  # left and right rules: O(1/n)


def test_a_list_of_layers_gives_a_list():
    net = TwoEmbeddings()
    layers = [net.embedding1, net.embedding2]
    (ours, delta), (theirs, their_delta) = _both(net, layers, IDS, n_steps=20)
    assert isinstance(ours, list) and len(ours) == 2
    assert_same(ours, theirs)
    torch.testing.assert_close(delta, their_delta, rtol=0, atol=1e-5)


def test_a_layer_returning_a_tuple_gives_a_tuple_in_closed_form():
    net = ThreeLayers(pair=True)
    x = torch.tensor([[0.0, 100.0, 0.0]])
    (ours, delta), (theirs, _) = _both(net, net.pair_of_relus, x, target=0)
    expected = torch.tensor([[90.0, 100.0, 100.0, 100.0]])
    assert_same(ours, (expected, expected), rtol=1e-4)
    assert_same(ours, theirs)
    assert abs(float(delta)) < 1e-3


def test_layer_inputs_of_a_list_of_layers():
    net = TwoBranches()
    torch.manual_seed(1)
    xs = tuple(torch.randn(5, 3) for _ in range(3))
    (ours, _), (theirs, _) = _both(
        net, [net.m1, net.m234], xs, baselines=tuple(torch.zeros(5, 3) for _ in range(3)),
        target=0, attribute_to_layer_input=True, n_steps=20,
    )  # fmt: skip
    # m1 reads one tensor (a tensor back), m234 three (a tuple back).
    assert isinstance(ours[0], torch.Tensor) and isinstance(ours[1], tuple) and len(ours[1]) == 3
    assert_same(ours, theirs)


def test_a_layer_that_does_not_reach_the_output_gets_zeros_and_a_warning():
    net = ThreeLayers(pair=True)
    x = torch.tensor([[3.0, 4.0, 0.0]])
    with pytest.warns(integrad.IntegradWarning, match="layer ReLU does not reach"):
        ours = LayerIntegratedGradients(net, [net.hidden, net.relu]).attribute(
            x, target=0, grad_kwargs={"materialize_grads": True}
        )
    theirs = CaptumLIG(net, [net.hidden, net.relu]).attribute(
        x, target=0, grad_kwargs={"materialize_grads": True}
    )
    assert_same(ours, theirs)
    assert ours[1].abs().max() == 0
    with pytest.raises(integrad.IntegradError, match=r"grad_kwargs \['retain_graph'\]"):
        LayerIntegratedGradients(net, net.hidden).attribute(
            x, target=0, grad_kwargs={"retain_graph": True}
        )


def test_compute_convergence_delta_of_layer_attributions():
    net = TwoEmbeddings()
    lig = LayerIntegratedGradients(net, [net.embedding1, net.embedding2])
    base = tuple(torch.zeros_like(i) for i in IDS)
    attributions, delta = lig.attribute(IDS, base, n_steps=20, return_convergence_delta=True)
    again = lig.compute_convergence_delta(attributions, base, IDS)
    torch.testing.assert_close(again, delta, rtol=0, atol=1e-6)
