"""Adaptive nested Clenshaw-Curtis integration: accuracy on demand, honest error estimates,
budgets."""

import math

import numpy as np
import pytest
import torch

import integrad
from integrad.core import adaptive, engine
from integrad.core.adaptive import FIRST_EVALS, FIRST_LEVEL, LEVEL_SIZES, LEVEL_WEIGHTS, POINTS
from integrad.core.integrand import Integrand
from integrad.core.pathmap import (
    DEFAULT_CENTRE,
    DEFAULT_WIDTH,
    MAX_WIDTH,
    PROBES,
    SinhMap,
    fit_map,
)


def test_rules_are_nested_and_exact_to_their_degrees():
    previous = np.zeros(len(POINTS), dtype=bool)
    for weights, n in zip(LEVEL_WEIGHTS, LEVEL_SIZES, strict=True):
        used = weights != 0
        assert used.sum() == n + 1 and (weights >= 0).all()
        assert (used | ~previous).all()  # every coarser rule's points are reused
        previous = used
        exact_to = n + 1 if n % 2 == 0 else n  # Clenshaw-Curtis on n + 1 points
        for degree in range(exact_to + 1):
            assert abs((weights * POINTS**degree).sum() - 1 / (degree + 1)) < 1e-14
    for weights, n in zip(LEVEL_WEIGHTS[:2], LEVEL_SIZES[:2], strict=True):  # no further
        degree = n + 2 if n % 2 == 0 else n + 1
        assert abs((weights * POINTS**degree).sum() - 1 / (degree + 1)) > 1e-13
    finest = LEVEL_SIZES[-1]
    np.testing.assert_allclose(POINTS, (1 - np.cos(np.pi * np.arange(finest + 1) / finest)) / 2)


# A sharp transition along the path: sigmoid(40 (x - 0.6)) switches within a few percent
# of alpha, where fixed 50-point Gauss-Legendre is visibly off.
X = torch.tensor([[1.0, 2.0, -1.5], [0.3, 0.1, 0.2], [0.9, 0.7, 1.1]], dtype=torch.float64)


def steep(x):
    return torch.sigmoid(40 * (x - 0.6)).sum(1)


EXACT = torch.sigmoid(40 * (X - 0.6)) - torch.sigmoid(torch.tensor(-24.0, dtype=torch.float64))


def _relative_error(attributions):
    return ((attributions - EXACT).norm(dim=1) / EXACT.norm(dim=1)).max().item()


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-7])
def test_reaches_tol_on_a_steep_sigmoid_where_fixed_rules_do_not(tol):
    res = integrad.attribute(steep, X, method="adaptive", tol=tol)
    true_error = (res.attributions - EXACT).norm(dim=1) / EXACT.norm(dim=1)
    assert (true_error <= tol).all()
    # The estimate bounds the true error.
    assert (res.error_estimate >= true_error).all() and (res.error_estimate <= tol).all()
    assert res.n_steps is None and res.method == "adaptive"
    fixed = integrad.attribute(steep, X, method="gausslegendre", n_steps=50)
    assert _relative_error(fixed.attributions) > 1e-3


def test_pays_only_for_what_each_example_needs():
    res = integrad.attribute(steep, X, method="adaptive", tol=1e-4)
    # The second example never crosses the transition: one panel at its second level
    # suffices.
    assert res.n_evals[1].item() <= LEVEL_SIZES[FIRST_LEVEL + 1] + 1
    # The others cross it (the first twice) and pay for it, each on its own.
    assert (res.n_evals[[0, 2]] > 3 * res.n_evals[1]).all()


def test_smooth_integrand_stops_at_a_low_level():
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)

    def smooth(x):
        return torch.tanh(x @ w)

    res = integrad.attribute(smooth, X, method="adaptive", tol=1e-3)
    assert res.n_evals.min().item() == FIRST_EVALS and res.n_evals.max().item() <= 17
    reference = integrad.attribute(smooth, X, n_steps=64).attributions
    true_error = (res.attributions - reference).norm(dim=1) / reference.norm(dim=1)
    assert (true_error <= res.error_estimate).all() and (res.error_estimate <= 1e-3).all()
    assert res.delta.abs().max() < 1e-5


def test_finished_examples_are_unchanged_by_their_batch_mates():
    together = integrad.attribute(steep, X, method="adaptive", tol=1e-5)
    for i in range(3):
        alone = integrad.attribute(steep, X[i : i + 1], method="adaptive", tol=1e-5)
        assert alone.n_evals.item() == together.n_evals[i].item()
        torch.testing.assert_close(
            alone.attributions[0], together.attributions[i], rtol=1e-12, atol=1e-14
        )


def test_max_evals_stops_with_a_warning():
    with pytest.warns(
        integrad.IntegradWarning, match="stopped at max_evals=60 before reaching tol=1e-12"
    ):
        res = integrad.attribute(steep, X, method="adaptive", tol=1e-12, max_evals=60)
    assert (res.n_evals <= 60).all()
    assert (res.error_estimate > 1e-12).any()


def test_bad_settings_name_the_fix():
    with pytest.raises(integrad.IntegradError, match="tol must be a number > 0"):
        integrad.attribute(steep, X, method="adaptive", tol=0)
    with pytest.raises(integrad.IntegradError, match=f"max_evals must be at least {FIRST_EVALS}"):
        integrad.attribute(steep, X, method="adaptive", max_evals=8)
    with pytest.raises(integrad.IntegradError, match=r"below what torch.float32 .* float64"):
        integrad.attribute(steep, X.float(), method="adaptive", tol=1e-8)


def test_layer_mode_adaptive_is_complete(embedding_mlp):
    ids = torch.tensor([[3, 5, 7, 9], [1, 2, 3, 0]])
    res = integrad.attribute(
        embedding_mlp,
        ids,
        layer=embedding_mlp.embedding,
        target=[0, 2],
        method="adaptive",
        tol=1e-5,
    )
    assert res.delta.abs().max() < 1e-5
    reference = integrad.attribute(
        embedding_mlp, ids, layer=embedding_mlp.embedding, target=[0, 2], n_steps=200
    )
    err = (res.attributions - reference.attributions).norm(
        dim=(1, 2)
    ) / reference.attributions.norm(dim=(1, 2))
    assert (err < 1e-4).all()


def _default_map_inverse(x):
    """u(alpha) of the default map: the path position whose image is ``x``."""
    c, w = DEFAULT_CENTRE, DEFAULT_WIDTH
    lo, hi = math.asinh(-c / w), math.asinh((1 - c) / w)
    return (torch.asinh((x - c) / w) - lo) / (hi - lo)


def test_the_first_level_integrates_a_polynomial_through_the_map_exactly():
    # F(x) = P(u(x)) along x = alpha from 0 to 1: the integrand over u is P'(u), of degree 7,
    # which the 8-point rule inside the first level already integrates exactly, so the two
    # rules agree and the first level's answer is exact.
    coeffs = torch.tensor([0.3, -1.0, 2.0, 0.5, -0.7, 1.1, 0.2, -0.4, 0.9], dtype=torch.float64)

    def poly_of_u(x):
        u = _default_map_inverse(x[:, 0])
        return sum(c * u**k for k, c in enumerate(coeffs))

    one = torch.ones(1, 1, dtype=torch.float64)
    res = integrad.attribute(poly_of_u, one, method="adaptive", tol=1e-9)
    exact = coeffs[1:].sum()  # P(1) - P(0)
    assert res.n_evals.item() == FIRST_EVALS
    assert abs(res.attributions.item() - exact.item()) < 1e-12
    # The same rule without the map is not exact: the map is what makes it so.
    alphas, weights = POINTS[LEVEL_WEIGHTS[FIRST_LEVEL] != 0], LEVEL_WEIGHTS[FIRST_LEVEL]
    x = torch.tensor(alphas, requires_grad=True)
    (grad,) = torch.autograd.grad(poly_of_u(x[:, None]).sum(), x)
    unmapped = (torch.tensor(weights[weights != 0]) * grad).sum()
    assert abs(unmapped.item() - exact.item()) > 1e-6


def _adaptive_with(monkeypatch, path_map, results):
    def integrate(*args):
        results.append(adaptive.integrate_adaptive(*args, path_map=path_map))
        return results[-1]

    monkeypatch.setattr(engine, "integrate_adaptive", integrate)


def test_probes_move_the_points_never_the_result(monkeypatch):
    probed, forced, calls = [], [], []
    original = Integrand.values
    monkeypatch.setattr(Integrand, "values", lambda *a: calls.append(a[1].shape[0]) or original(*a))
    _adaptive_with(monkeypatch, "probe", probed)
    res = integrad.attribute(steep, X, method="adaptive", tol=1e-6)
    chosen = probed[0].path_map
    assert (probed[0].n_probes == len(PROBES)).all() and calls == [len(PROBES) * 3]
    # The probes found each example's transition: not the default map.
    assert not torch.equal(chosen.centre, SinhMap.default(3).centre)
    # The same map forced: no probes, the very same points and result.
    calls.clear()
    _adaptive_with(monkeypatch, chosen, forced)
    again = integrad.attribute(steep, X, method="adaptive", tol=1e-6)
    assert (forced[0].n_probes == 0).all() and calls == []
    torch.testing.assert_close(again.attributions, res.attributions, rtol=0, atol=0)
    assert torch.equal(again.n_evals, res.n_evals)
    # Another map (the default) puts the points elsewhere and reaches the same integral.
    monkeypatch.undo()
    default = integrad.attribute(steep, X, method="adaptive", tol=1e-6)
    assert not torch.equal(default.n_evals, res.n_evals)
    for r in (res, default):
        true_error = (r.attributions - EXACT).norm(dim=1) / EXACT.norm(dim=1)
        assert (true_error <= 1e-6).all()


def test_fit_map_finds_a_logistic_step():
    alphas = torch.tensor([0.0, *PROBES, 1.0], dtype=torch.float64)
    values = torch.stack([torch.sigmoid((alphas - c) / s) for c, s in ((0.3, 0.05), (0.6, 0.1))])
    fitted = fit_map(alphas, 2 * values - 1)
    torch.testing.assert_close(
        fitted.centre, torch.tensor([0.3, 0.6], dtype=torch.float64), atol=0.03, rtol=0
    )
    assert 0.03 <= fitted.width[0] <= 0.08 and 0.06 <= fitted.width[1] <= 0.15
    # A flat score gives the widest map.
    assert (
        fit_map(alphas, torch.zeros(1, len(alphas), dtype=torch.float64)).width.item() == MAX_WIDTH
    )
