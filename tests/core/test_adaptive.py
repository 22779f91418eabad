"""Adaptive Gauss-Kronrod integration: accuracy on demand, honest error estimates, budgets."""

import numpy as np
import pytest
import torch

import integrad
from integrad.core.adaptive import NODES, W_GAUSS, W_KRONROD


def test_kronrod_and_gauss_rules_are_exact_to_their_degrees():
    for degree in range(23):
        exact = 1 / (degree + 1)
        assert abs((W_KRONROD * NODES**degree).sum() - exact) < 1e-15
        if degree <= 13:
            assert abs((W_GAUSS * NODES**degree).sum() - exact) < 1e-15
    assert abs((W_GAUSS * NODES**14).sum() - 1 / 15) > 1e-10  # G7 stops at degree 13
    gauss_nodes = (np.polynomial.legendre.leggauss(7)[0] + 1) / 2
    np.testing.assert_allclose(np.sort(NODES[W_GAUSS > 0]), gauss_nodes, atol=1e-15)


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
    # The second example never crosses the transition: one Kronrod interval suffices.
    assert res.n_evals[1].item() == 15
    assert res.n_evals[0].item() > 15 and res.n_evals[2].item() > 15


def test_smooth_integrand_needs_one_interval():
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    res = integrad.attribute(lambda x: torch.tanh(x @ w), X, method="adaptive", tol=1e-3)
    assert res.n_evals.tolist() == [15, 15, 15]
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
    with pytest.raises(integrad.IntegradError, match="tol must be > 0"):
        integrad.attribute(steep, X, method="adaptive", tol=0)
    with pytest.raises(integrad.IntegradError, match="max_evals must be at least 15"):
        integrad.attribute(steep, X, method="adaptive", max_evals=10)


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
