"""Several targets per example share every forward pass and match one-at-a-time runs."""

import torch

import integrad
from integrad.targets import PerExample


def test_table_of_targets_equals_separate_runs(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    table = torch.tensor([[0, 1, 2], [2, 2, 0], [1, 0, 1]])
    together = integrad.attribute(mlp, x, target=table)
    assert together.attributions.shape == (3, 3, 5) and together.delta.shape == (3, 3)
    for k in range(3):
        alone = integrad.attribute(mlp, x, target=table[:, k])
        torch.testing.assert_close(
            together.attributions[:, k], alone.attributions, rtol=1e-12, atol=1e-14
        )
        torch.testing.assert_close(together.output[:, k], alone.output)


class CountingForward(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


def test_targets_share_the_forward_passes(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    model = CountingForward(mlp)
    integrad.attribute(model, x, target=[[0, 1, 2], [0, 1, 2]], n_steps=10, batch_size=20)
    three = model.calls
    model.calls = 0
    integrad.attribute(model, x, target=[0, 0], n_steps=10, batch_size=20)
    assert three == model.calls  # input, baseline, and one chunk of 20 rows either way


def test_per_example_callable_sees_example_indices(mlp):
    x = torch.randn(4, 5, dtype=torch.float64)
    chosen = torch.tensor([2, 0, 1, 2])
    res = integrad.attribute(
        mlp,
        x,
        target=PerExample(lambda out, ex: out[torch.arange(len(ex)), chosen[ex]]),
        batch_size=7,
    )
    ref = integrad.attribute(mlp, x, target=chosen)
    torch.testing.assert_close(res.attributions, ref.attributions, rtol=1e-12, atol=1e-14)


def test_callable_with_k_outputs_and_adaptive(mlp):
    x = torch.randn(2, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x, target=lambda out: out[:, :2], method="adaptive", tol=1e-6)
    assert res.attributions.shape == (2, 2, 5)
    assert res.delta.abs().max() < 1e-8
