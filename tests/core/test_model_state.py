"""The model's state around a call: gradients off or on, eval mode and its restoration,
random and detached forwards refused with the fix."""

import pytest
import torch
from torch import nn

import integrad

X = torch.randn(3, 5, dtype=torch.float64)


def test_attribution_works_inside_no_grad_and_gives_the_same_result(mlp):
    outside = integrad.attribute(mlp, X, target=0)
    with torch.no_grad():
        inside = integrad.attribute(mlp, X, target=0, method="adaptive", tol=1e-6)
        fixed = integrad.attribute(mlp, X, target=0)
        assert not torch.is_grad_enabled()  # the caller's mode is left as it was
    assert fixed == outside
    torch.testing.assert_close(inside.attributions, outside.attributions, atol=1e-6, rtol=1e-5)


def test_inference_mode_is_refused_with_the_fix(mlp):
    with (
        torch.inference_mode(),
        pytest.raises(
            integrad.IntegradError, match=r"inside torch.inference_mode\(\).*no_grad\(\) is fine"
        ),
    ):
        integrad.attribute(mlp, X, target=0)


def dropout_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.5), nn.Tanh(), nn.Linear(16, 2)).double()


def test_a_function_around_a_module_gets_eval_mode_and_the_mode_comes_back():
    model = dropout_mlp().train()
    with pytest.warns(integrad.IntegradWarning, match="was in training mode"):
        wrapped = integrad.attribute(lambda z: model(z) * 2.0, X, target=0)
    assert model.training and all(m.training for m in model.modules())
    reference = integrad.attribute(lambda z: model.eval()(z) * 2.0, X, target=0)
    torch.testing.assert_close(wrapped.attributions, reference.attributions)


def test_parameters_keep_their_requires_grad_flags():
    model = dropout_mlp().eval()
    model[0].weight.requires_grad_(False)
    integrad.attribute(model, X, target=0)
    assert [p.requires_grad for p in model.parameters()] == [False, True, True, True]
    assert all(p.grad is None for p in model.parameters())


def test_a_random_forward_is_refused_with_the_fix():
    model = dropout_mlp().eval()
    with pytest.raises(integrad.ModelError, match=r"different outputs .* Pass the torch module"):
        integrad.attribute(
            lambda z: nn.functional.dropout(model(z), 0.5, training=True), X, target=0
        )


def test_a_detached_input_is_refused_whatever_the_forward_is():
    model = dropout_mlp().eval()
    expected = r"does not depend on the attributed inputs.*without \.detach\(\)"
    with pytest.raises(integrad.ModelError, match=expected):
        integrad.attribute(lambda z: model(z.detach()), X, target=0)
    global_model = model  # a function naming a module it does not hold in a closure

    def through_numpy(z):
        return global_model(torch.as_tensor(z.detach().numpy()))

    with pytest.raises(integrad.ModelError, match=expected):
        integrad.attribute(through_numpy, X, target=0)


def test_the_users_model_keeps_its_mode_through_explain(tiny_bert, tiny_tokenizer):
    tiny_bert.train()
    try:
        with pytest.warns(integrad.IntegradWarning, match="was in training mode"):
            trained = integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer)
        assert tiny_bert.training
    finally:
        tiny_bert.eval()
    assert trained == integrad.explain(tiny_bert, "great food", tokenizer=tiny_tokenizer)


def test_modules_are_found_behind_functions_partials_and_bound_methods():
    import functools

    from integrad.core.model_state import modules_behind

    model = dropout_mlp()
    assert modules_behind(model) == [model]
    assert modules_behind(model.forward) == [model]
    assert modules_behind(lambda z: model(z)) == [model]
    assert modules_behind(functools.partial(lambda m, z: m(z), model)) == [model]
    first = model[0]
    assert modules_behind(lambda z: first(z)) == [first]  # only what the function holds
    assert modules_behind(lambda z: z.sum(1)) == []
