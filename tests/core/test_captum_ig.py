"""After the cases of Captum's Integrated Gradients and NoiseTunnel test files, rewritten here:
the paper's examples in closed form, implementation invariance, attributions without the
(input - baseline) factor, tuple targets into multi-dimensional outputs, and the three noise
kinds, for every rule."""

import pytest
import torch

import integrad
from tests.captum_models import PaperExample, PaperExampleShifted, ThreeLayers

RULES = integrad.list_rules()
X1, X2 = torch.tensor([[3.0]], dtype=torch.float64), torch.tensor([[1.0]], dtype=torch.float64)


@pytest.mark.parametrize("rule", RULES)
def test_the_papers_examples_in_closed_form_and_implementation_invariance(rule):
    # f(3, 1) = 1 - 0: along the straight path from 0, x1 is worth 1.5 and x2 -0.5.
    a = integrad.attribute(PaperExample(), (X1, X2), method=rule, n_steps=500)
    b = integrad.attribute(PaperExampleShifted(), (X1, X2), method=rule, n_steps=500)
    for res in (a, b):
        assert float(res.attributions[0]) == pytest.approx(1.5, abs=0.05)
        assert float(res.attributions[1]) == pytest.approx(-0.5, abs=0.05)
    # The same function written two ways gets the same total.
    assert float(sum(a.attributions)) == pytest.approx(float(sum(b.attributions)), abs=1e-9)


def test_without_the_factor_the_integrated_gradients_themselves():
    res = integrad.attribute(PaperExample(), (X1, X2), n_steps=500, multiply_by_inputs=False)
    assert float(res.attributions[0]) == pytest.approx(0.5, abs=0.01)
    assert float(res.attributions[1]) == pytest.approx(-0.5, abs=0.01)
    assert abs(float(res.delta)) < 1e-3  # completeness of the multiplied ones


@pytest.mark.parametrize("rule", RULES)
def test_an_input_equal_to_its_baseline_gets_nothing(rule):
    model = ThreeLayers().double()
    x = torch.tensor([[1.5, 2.0, 1.3]], dtype=torch.float64)
    res = integrad.attribute(model, x, baseline=x, target=0, method=rule, n_steps=16)
    assert res.attributions.abs().max() == 0 and res.delta.abs().max() < 1e-12


@pytest.mark.parametrize("rule", RULES)
def test_a_batch_equals_its_examples_one_at_a_time(rule):
    model = ThreeLayers().double()
    x = torch.tensor([[1.5, 2.0, 1.3], [0.5, 0.1, 2.3], [1.5, 2.0, 1.3]], dtype=torch.float64)
    batch = integrad.attribute(model, x, target=0, method=rule, n_steps=100, batch_size=20)
    for i in range(3):
        one = integrad.attribute(model, x[i : i + 1], target=0, method=rule, n_steps=100)
        torch.testing.assert_close(batch.attributions[i : i + 1], one.attributions)
        torch.testing.assert_close(batch.delta[i : i + 1], one.delta)


def test_a_tuple_target_indexes_a_multidimensional_output():
    model = ThreeLayers().double()
    x = torch.tensor([[1.5, 2.0, 1.3], [0.5, 0.1, 2.3]], dtype=torch.float64)

    def multidim(z):
        return model(z, multidim=True)  # (batch, 2, 2, 2): out, 2 out; times 1 and 4

    res = integrad.attribute(multidim, x, target=(0, 1, 1))
    # output[:, 0, 1, 1] is 8 times the first logit for every example
    plain = integrad.attribute(model, x, target=0)
    torch.testing.assert_close(res.attributions, 8 * plain.attributions)
    assert res.target.tolist() == [3, 3]  # the flat index of (0, 1, 1)


@pytest.mark.parametrize("rule", RULES)
def test_noise_kinds_with_vanishing_noise_reduce_to_plain_ig(rule):
    model = ThreeLayers().double()
    x = torch.tensor([[1.5, 2.1, 1.9], [0.5, 0.0, 0.7]], dtype=torch.float64)
    plain = integrad.attribute(model, x, target=0, method=rule, n_steps=50).attributions
    expected = {"smoothgrad": plain, "smoothgrad_sq": plain**2, "vargrad": 0 * plain}
    for kind, value in expected.items():
        noise = integrad.Noise(n_samples=5, level=1e-9, kind=kind, seed=0)
        res = integrad.attribute(model, x, target=0, method=rule, n_steps=50, noise=noise)
        torch.testing.assert_close(res.attributions, value, atol=1e-6, rtol=1e-6)
        assert res.n_evals.tolist() == [250, 250]
