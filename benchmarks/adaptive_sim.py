"""The adaptive engine run on resolved reference integrands, without the model.

:class:`ReferenceIntegrand` stands in for :class:`integrad.core.integrand.Integrand`: its
gradients at any alpha are the reference Chebyshev series (in the compact basis of
``adaptive_reference``, where L2 norms are exact), and its forward-only scores are that
series' integral. ``integrate_adaptive`` runs on it unchanged, so the engine's settings can
be calibrated on development texts in seconds, and every rule's error is exact.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.polynomial import chebyshev

from integrad.core.adaptive import integrate_adaptive


class _Target:
    n_targets = 1


class _Point:
    def __init__(self, start: torch.Tensor) -> None:
        self.start = start


class ReferenceIntegrand:
    """A batch of reference integrands with the engine's integrand interface."""

    def __init__(self, refs: list[dict[str, np.ndarray]]) -> None:
        self.factors = torch.tensor(np.stack([r["factor"] for r in refs]))  # (B, N + 1, R)
        self.scalars = [chebyshev.chebint(r["scalar"], lbnd=-1) / 2 for r in refs]
        self.batch = len(refs)
        self.points = [_Point(torch.zeros(self.batch, self.factors.shape[2]))]
        self.target = _Target()
        self.forward_calls = 0
        n = self.factors.shape[1] - 1
        k = np.arange(n + 1)
        moments = np.where(k % 2 == 0, 2 / (1 - k**2 + (k % 2)), 0.0) / 2
        self.exact = torch.einsum("k,bkr->br", torch.tensor(moments), self.factors)  # (B, R)

    def values(self, example: torch.Tensor, alpha: torch.Tensor, chunk_rows: int) -> torch.Tensor:
        self.forward_calls += example.shape[0]
        t = (2 * alpha - 1).numpy()
        return torch.tensor(
            [chebyshev.chebval(ti, self.scalars[int(e)]) for e, ti in zip(example, t, strict=True)]
        )[:, None]

    def weighted_gradient_sums(self, example, alpha, weights, group, n_groups, chunk_rows, dtype):
        t = (2 * alpha - 1).clamp(-1, 1)
        k = torch.arange(self.factors.shape[1], dtype=torch.float64)
        cheb = torch.cos(k[None, :] * torch.arccos(t)[:, None])  # (rows, N + 1)
        grads = torch.einsum("rk,rkd->rd", cheb, self.factors[example])  # (rows, R)
        out = torch.zeros((n_groups, weights.shape[1], 1, grads.shape[1]), dtype=dtype)
        for j in range(weights.shape[1]):
            out[:, j, 0].index_add_(0, group, grads * weights[:, j : j + 1])
        return [out]

    def ends(self) -> tuple[torch.Tensor, torch.Tensor]:
        lo = torch.tensor([chebyshev.chebval(-1.0, s) for s in self.scalars])[:, None]
        hi = torch.tensor([chebyshev.chebval(1.0, s) for s in self.scalars])[:, None]
        return lo, hi


def run(refs, tol: float, max_evals: int = 2000, path_map="default"):
    """integrate_adaptive on the references: (result, true relative errors (B,))."""
    f = ReferenceIntegrand(refs)
    ones = [torch.ones(f.batch, f.factors.shape[2], dtype=torch.float32)]
    res = integrate_adaptive(f, ones, tol, max_evals, 4096, torch.float64, f.ends(), path_map)
    got = res.attributions[0][:, 0]
    err = (got - f.exact).norm(dim=1) / f.exact.norm(dim=1)
    return res, err
