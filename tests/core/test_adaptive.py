"""Adaptive nested Clenshaw-Curtis integration: accuracy on demand, honest error estimates,
budgets."""

import numpy as np
import pytest
import torch

import integrad
from integrad.core.adaptive import FIRST_EVALS, FIRST_LEVEL, LEVEL_SIZES, LEVEL_WEIGHTS, POINTS


def test_rules_are_nested_and_exact_to_their_degrees():
    previous = np.zeros(len(POINTS), dtype=bool)
    for weights, n in zip(LEVEL_WEIGHTS, LEVEL_SIZES, strict=True):
        used = weights != 0
        assert used.sum() == n + 1 and (weights >= 0).all()
        assert (used | ~previous).all()  # every coarser rule's points are reused
        previous = used
        for degree in range(n + 2):  # Clenshaw-Curtis on n + 1 points, n even: degree n + 1
            assert abs((weights * POINTS**degree).sum() - 1 / (degree + 1)) < 1e-14
    for weights, n in zip(LEVEL_WEIGHTS[:2], LEVEL_SIZES[:2], strict=True):  # no further
        assert abs((weights * POINTS ** (n + 2)).sum() - 1 / (n + 3)) > 1e-13
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
