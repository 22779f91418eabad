"""Integration rules: weights, closed-form integrands, and each rule's order of accuracy."""

import math

import numpy as np
import pytest
import torch

import integrad
from integrad.core.rules import register_rule, rule_points

RULES = integrad.list_rules()


@pytest.mark.parametrize("rule", RULES)
def test_weights_sum_to_one_and_alphas_in_unit_interval(rule):
    for n in (2, 7, 50):
        alphas, weights = rule_points(rule, n)
        assert alphas.shape == weights.shape == (n,)
        assert math.isclose(weights.sum(), 1.0, rel_tol=1e-12)
        assert alphas.min() >= 0.0 and alphas.max() <= 1.0


def test_trapezoid_is_the_composite_rule():
    alphas, weights = rule_points("riemann_trapezoid", 5)
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(weights, [0.125, 0.25, 0.25, 0.25, 0.125])


def test_unknown_rule_and_bad_steps_name_the_choices():
    with pytest.raises(integrad.IntegradError, match="unknown method 'simpson'.*gausslegendre"):
        rule_points("simpson", 10)
    with pytest.raises(integrad.IntegradError, match="positive integer"):
        rule_points("gausslegendre", 0)
    with pytest.raises(integrad.IntegradError, match="n_steps >= 2"):
        rule_points("riemann_trapezoid", 1)


def test_register_rule_refuses_overwrite_unless_asked():
    with pytest.raises(integrad.IntegradError, match="overwrite=True"):
        register_rule("gausslegendre", lambda n: (np.zeros(n), np.ones(n) / n))


X = torch.tensor([[1.5, -2.0, 0.7]], dtype=torch.float64)
X0 = torch.tensor([[0.2, 0.5, -1.0]], dtype=torch.float64)
W = torch.tensor([2.0, -1.0, 3.0], dtype=torch.float64)


@pytest.mark.parametrize("rule", RULES)
def test_linear_model_is_exact_for_every_rule(rule):
    res = integrad.attribute(lambda x: x @ W, X, baseline=X0, method=rule, n_steps=7)
    torch.testing.assert_close(res.attributions, W * (X - X0), rtol=1e-12, atol=1e-12)
    assert abs(res.delta.item()) < 1e-12


@pytest.mark.parametrize("rule", ["riemann_middle", "riemann_trapezoid", "gausslegendre"])
def test_quadratic_is_exact_for_second_order_rules(rule):
    res = integrad.attribute(lambda x: (W * x**2).sum(1), X, baseline=X0, method=rule, n_steps=4)
    torch.testing.assert_close(res.attributions, W * (X**2 - X0**2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", ["riemann_left", "riemann_right"])
def test_quadratic_error_of_first_order_rules_is_exactly_known(rule):
    # The gradient is linear in alpha, so the left/right sums miss by -+ w * d^2 / n.
    n = 10
    res = integrad.attribute(lambda x: (W * x**2).sum(1), X, baseline=X0, method=rule, n_steps=n)
    sign = -1 if rule == "riemann_left" else 1
    expected = W * (X**2 - X0**2) + sign * W * (X - X0) ** 2 / n
    torch.testing.assert_close(res.attributions, expected, rtol=1e-12, atol=1e-12)


def test_product_of_two_inputs():
    x = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    res = integrad.attribute(lambda x: x[:, 0] * x[:, 1], x, n_steps=3)
    # Each factor gets half the product from a zero baseline.
    torch.testing.assert_close(res.attributions, torch.tensor([[6.0, 6.0]], dtype=torch.float64))


def _sin_error(rule, n):
    res = integrad.attribute(lambda x: torch.sin(x).sum(1), X, baseline=X0, method=rule, n_steps=n)
    exact = torch.sin(X) - torch.sin(X0)
    return (res.attributions - exact).abs().max().item()


@pytest.mark.parametrize(
    ("rule", "order"),
    [("riemann_left", 1), ("riemann_right", 1), ("riemann_middle", 2), ("riemann_trapezoid", 2)],
)
def test_error_order_as_steps_double(rule, order):
    ratio = _sin_error(rule, 32) / _sin_error(rule, 64)
    assert ratio == pytest.approx(2**order, rel=0.1)


def test_gauss_legendre_is_far_more_accurate():
    assert _sin_error("gausslegendre", 8) < 1e-9
    assert _sin_error("gausslegendre", 8) < 1e-4 * _sin_error("riemann_trapezoid", 50)
