"""Layer attribution, after the cases of Captum's Layer Integrated Gradients tests (rewritten
here): layers returning tuples, layer inputs, several layers at once, nested embeddings,
and attributions without the (input - baseline) factor. Captum is the second
implementation wherever it is right."""

import pytest
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients

import integrad
from tests.captum_models import ThreeLayers, TwoBranches, TwoEmbeddings

IDS = (
    torch.tensor([[2, 5, 0, 1], [3, 1, 1, 0]]),
    torch.tensor([[0, 2, 4, 1], [2, 3, 5, 7]]),
    torch.tensor([[3, 5, 6, 7], [2, 3, 0, 1]]),
)


def close(ours, theirs, atol=1e-5):
    """Attributions of the same structure (tensor, tuple or list) agree."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor)
        torch.testing.assert_close(ours, theirs, atol=atol, rtol=1e-4)
        return
    assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        close(a, b, atol)


def test_a_layer_returning_a_tuple_gets_one_attribution_per_tensor():
    net = ThreeLayers(pair=True)
    x = torch.tensor([[0.0, 100.0, 0.0]])
    res = integrad.attribute(net, x, layer=net.pair_of_relus, target=0)
    # Closed form: the branches are linear along the path and feed the output with weight 1.
    expected = torch.tensor([[90.0, 100.0, 100.0, 100.0]])
    assert isinstance(res.attributions, tuple) and len(res.attributions) == 2
    close(res.attributions, (expected, expected), atol=1e-4)
    close(res.attributions, LayerIntegratedGradients(net, net.pair_of_relus).attribute(x, target=0))
    assert abs(float(res.delta)) < 1e-4


def test_without_multiply_by_inputs_the_factor_is_left_out():
    net = ThreeLayers(pair=True)
    x, base = torch.tensor([[0.0, 100.0, 0.0]]), torch.zeros(1, 3)
    full = integrad.attribute(net, x, layer=net.pair_of_relus, target=0)
    bare = integrad.attribute(net, x, layer=net.pair_of_relus, target=0, multiply_by_inputs=False)
    at_x, at_base = (
        net.pair_of_relus(net.hidden(x), net.hidden_alt(x)),
        net.pair_of_relus(net.hidden(base), net.hidden_alt(base)),
    )
    for b, f, hi, lo in zip(bare.attributions, full.attributions, at_x, at_base, strict=True):
        torch.testing.assert_close(b * (hi - lo), f)
    assert not bare.multiply_by_inputs and float(bare.delta) == pytest.approx(float(full.delta))
    theirs = LayerIntegratedGradients(net, net.pair_of_relus, multiply_by_inputs=False)
    close(bare.attributions, theirs.attribute(x, target=0))


def test_layer_inputs_of_a_list_of_layers_add_up_to_input_attributions():
    net = TwoBranches()
    torch.manual_seed(1)
    xs = tuple(torch.randn(5, 3) for _ in range(3))
    base = tuple(torch.zeros(5, 3) for _ in range(3))
    layers = [net.m1, net.m234]
    res = integrad.attribute(
        net, xs, baseline=base, layer=layers, target=0, attribute_to_layer_input=True
    )
    # m1 reads one tensor (a tensor back); m234 reads three (a tuple back).
    assert isinstance(res.attributions, list) and isinstance(res.attributions[0], torch.Tensor)
    assert isinstance(res.attributions[1], tuple) and len(res.attributions[1]) == 3
    plain = integrad.attribute(net, xs, baseline=base, target=0)
    # x1 is read by both layers: its two layer-input attributions add up to its own.
    first, (second, third, x1_again) = res.attributions
    close((first + x1_again, second, third), plain.attributions)
    theirs = LayerIntegratedGradients(net, layers).attribute(
        xs, base, target=0, attribute_to_layer_input=True
    )
    close(res.attributions, theirs)


def test_layer_outputs_of_a_list_of_layers_are_ig_of_their_sum():
    net = TwoBranches()
    torch.manual_seed(2)
    xs = tuple(torch.randn(5, 3) for _ in range(4))  # x4 replaces x1 in the second branch
    base = tuple(torch.zeros(5, 3) for _ in range(4))
    res = integrad.attribute(net, xs, baseline=base, layer=[net.m1, net.m234], target=0)
    outputs = (net.m1(xs[0]), net.m234(xs[1], xs[2], xs[3], 1))
    at_base = (net.m1(base[0]), net.m234(base[1], base[2], base[3], 1))
    by_hand = integrad.attribute(lambda a, b: a + b, outputs, baseline=at_base, target=0)
    close(res.attributions, list(by_hand.attributions))
    close(
        res.attributions,
        LayerIntegratedGradients(net, [net.m1, net.m234]).attribute(xs, base, target=0),
    )


@pytest.mark.parametrize("multiply_by_inputs", [True, False])
def test_nested_embeddings_match_ig_on_the_embeddings(multiply_by_inputs):
    model = TwoEmbeddings()
    layers = [model.embedding1, model.embedding2]
    res = integrad.attribute(
        model, IDS, layer=layers, target=0, multiply_by_inputs=multiply_by_inputs
    )
    # By hand: IG over the two embedding outputs, the model's tail as the function.
    e1, e2 = model.embedding1(IDS[0]), model.embedding2(IDS[1], IDS[2])
    b1, b2 = (
        model.embedding1(torch.zeros_like(IDS[0])),
        model.embedding2(torch.zeros_like(IDS[1]), torch.zeros_like(IDS[2])),
    )

    def tail(a, b):
        return model.linear2(model.relu(model.linear1(a + b))).sum(1)

    by_hand = integrad.attribute(
        tail, (e1.detach(), e2.detach()), baseline=(b1.detach(), b2.detach()), target=0,
        multiply_by_inputs=multiply_by_inputs,
    )  # fmt: skip
    close(res.attributions, list(by_hand.attributions))
    theirs = LayerIntegratedGradients(model, layers, multiply_by_inputs=multiply_by_inputs)
    close(res.attributions, theirs.attribute(IDS, target=0))


def test_one_embedding_with_extra_positional_arguments_matches_captum():
    model = TwoEmbeddings()
    res = integrad.attribute(model, IDS[0], layer=model.embedding1, target=0, forward_args=IDS[1:])
    theirs = LayerIntegratedGradients(model, model.embedding1).attribute(
        IDS[0], target=0, additional_forward_args=IDS[1:]
    )
    close(res.attributions, theirs)
    assert res.delta.abs().max() < 1e-4


def test_a_layer_whose_output_is_replaced_downstream_gets_zero_and_a_warning():
    net = ThreeLayers()  # relu reads hidden's output: substituting relu cuts hidden off
    x = torch.tensor([[3.0, 4.0, 0.0]])
    with pytest.warns(integrad.IntegradWarning, match="layer Linear does not reach"):
        res = integrad.attribute(net, x, layer=[net.hidden, net.relu], target=0)
    assert [tuple(a.shape) for a in res.attributions] == [(1, 4), (1, 4)]
    assert torch.equal(res.attributions[0], torch.zeros(1, 4))
    assert res.attributions[1].abs().sum() > 0


def test_layer_baselines_follow_the_form_of_layer():
    model = TwoEmbeddings()
    zeros = integrad.attribute(
        model, IDS, layer=[model.embedding1, model.embedding2], layer_baseline=[0.0, 0.0], target=0
    )
    # Both embeddings at zero: the tail of the model on a zero sum.
    at_zero = model.linear2(model.relu(model.linear1(torch.zeros(2, 4, 16)))).sum(1)
    moved = (model(*IDS) - at_zero)[:, 0].double()
    total = zeros.attributions[0].sum((1, 2)) + zeros.attributions[1].sum((1, 2))
    torch.testing.assert_close(total.double(), moved + zeros.delta, atol=1e-4, rtol=0)
    with pytest.raises(integrad.BaselineError, match="layer_baseline has 2 entries for 1 layers"):
        integrad.attribute(model, IDS, layer=[model.embedding1], layer_baseline=[0.0, 0.0])


def test_ig_on_inputs_matches_captum_with_extra_arguments_and_internal_batches():
    from tests.captum_models import ExtraArguments

    f = ExtraArguments()
    x1 = torch.tensor([[1.5, 2.0, 34.3], [3.4, 1.2, 2.0]])
    x2 = torch.tensor([[3.0, 3.5, 23.2], [2.3, 1.2, 0.3]])
    args = (torch.arange(1.0, 7.0).reshape(2, 3), 1)
    for batch_size in (None, 10, 20):
        ours = integrad.attribute(
            f, (x1, x2), baseline=(torch.zeros(2, 3), 0.0), forward_args=args,
            method="riemann_right", n_steps=100, batch_size=batch_size,
        )  # fmt: skip
        theirs = IntegratedGradients(f).attribute(
            (x1, x2), (torch.zeros(2, 3), 0.0), additional_forward_args=args,
            method="riemann_right", n_steps=100, internal_batch_size=batch_size,
        )  # fmt: skip
        close(ours.attributions, theirs)
