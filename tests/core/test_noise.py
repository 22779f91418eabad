"""Noise averaging over IG: deterministic per seed, batched, noise on embeddings for tokens."""

import pytest
import torch

import integrad


def test_zero_noise_gives_plain_ig_and_zero_std(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    plain = integrad.attribute(mlp, x, target=1)
    noisy = integrad.attribute(mlp, x, target=1, noise=integrad.Noise(n_samples=4, level=0.0))
    torch.testing.assert_close(noisy.attributions, plain.attributions, rtol=1e-12, atol=1e-14)
    assert noisy.std.abs().max() < 1e-14
    assert noisy.n_evals.tolist() == [200, 200, 200]


def test_same_seed_same_result_other_seed_other_result(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    a = integrad.attribute(mlp, x, target=0, noise=integrad.Noise(n_samples=6, level=0.2, seed=1))
    b = integrad.attribute(mlp, x, target=0, noise=integrad.Noise(n_samples=6, level=0.2, seed=1))
    c = integrad.attribute(mlp, x, target=0, noise=integrad.Noise(n_samples=6, level=0.2, seed=2))
    assert torch.equal(a.attributions, b.attributions) and torch.equal(a.std, b.std)
    assert not torch.allclose(a.attributions, c.attributions)
    assert a.std.min() > 0
    # Each sample is complete against its own noisy input.
    assert a.delta.abs().max() < 1e-10


def test_samples_give_the_mean_and_the_std(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x, target=1, noise=integrad.Noise(n_samples=3, level=0.2))
    assert res.samples.shape == (2, 3, 5)
    torch.testing.assert_close(res.samples.mean(1), res.attributions)
    torch.testing.assert_close(res.samples.std(1, unbiased=False), res.std)
    table = integrad.attribute(mlp, x, target=[[0, 1]] * 2, noise=integrad.Noise(n_samples=3))
    assert table.samples.shape == (2, 3, 2, 5) and table.std.shape == (2, 2, 5)


def test_targets_are_reported_per_example(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x, target=[1, 2, 0], noise=integrad.Noise(n_samples=4, level=0.1))
    assert res.target.tolist() == [1, 2, 0]
    assert res.attributions.shape == (3, 5) and res.output.shape == (3,)


def test_kinds_agree_with_their_definitions(mlp):
    x = torch.randn(1, 5, dtype=torch.float64)
    noise = {"n_samples": 5, "level": 0.3, "seed": 0}
    mean = integrad.attribute(mlp, x, target=2, noise=integrad.Noise(**noise))
    sq = integrad.attribute(mlp, x, target=2, noise=integrad.Noise(kind="smoothgrad_sq", **noise))
    var = integrad.attribute(mlp, x, target=2, noise=integrad.Noise(kind="vargrad", **noise))
    torch.testing.assert_close(var.attributions, mean.std**2)
    torch.testing.assert_close(sq.attributions, mean.std**2 + mean.attributions**2)


def test_noise_goes_on_embeddings_for_token_ids(embedding_mlp):
    ids = torch.tensor([[3, 5, 7, 9]])
    res = integrad.attribute(
        embedding_mlp,
        ids,
        layer=embedding_mlp.embedding,
        target=0,
        noise=integrad.Noise(n_samples=3, level=0.1, seed=0),
    )
    assert res.attributions.shape == res.std.shape == (1, 4, 8)
    assert res.std.min() > 0


def test_bad_noise_settings():
    with pytest.raises(integrad.IntegradError, match="unknown noise kind 'gauss'.*smoothgrad"):
        integrad.Noise(kind="gauss")
    with pytest.raises(integrad.IntegradError, match="n_samples must be a positive integer"):
        integrad.Noise(n_samples=0)


def test_rank_stability_reads_how_alike_samples_order_the_scores():
    from integrad.core.noise import rank_stability

    keep = torch.tensor([True, True, True, True, False])
    same_order = torch.tensor([[1.0, 2.0, 3.0, 4.0, 9.0], [10.0, 20.0, 30.0, 40.0, -9.0]])
    assert rank_stability(same_order, keep) == pytest.approx(1.0)
    # two samples in opposite orders; the mean [4.5, 4, 3.5, 3] follows the second, so one
    # sample correlates -1 and the other +1
    opposite = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0], [8.0, 6.0, 4.0, 2.0, 0.0]])
    assert rank_stability(opposite, keep) == pytest.approx(0.0)
    # one sample swaps the two middle scores: Spearman 1 - 6 * 2 / (4 * 15) = 0.8 against the
    # mean, which keeps the first sample's order; the mean over both samples is 0.9
    swapped = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0], [1.0, 2.6, 2.5, 4.0, 0.0]])
    assert rank_stability(swapped, keep) == pytest.approx(0.9)
    assert rank_stability(same_order, torch.tensor([True, False, False, False, False])) is None
