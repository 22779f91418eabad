"""Noise averaging (SmoothGrad over IG): attributions averaged over noisy copies of the input.

The copies become extra examples of one batch, so every sample shares the batched
forward/backward passes instead of running one attribution per sample. For layer points
(token embeddings) the noise goes on the layer's activations, never on integer ids.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from integrad.core.path import Point
from integrad.options import Noise
from integrad.targets import ResolvedTarget


def expand(
    noise: Noise,
    points: list[Point],
    flat: list[torch.Tensor],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    target: ResolvedTarget,
) -> tuple[list[Point], list[torch.Tensor], tuple[Any, ...], dict[str, Any], ResolvedTarget]:
    """Repeat every example ``n_samples`` times (sample-minor) and add noise to its input end."""
    batch = flat[0].shape[0]
    source = torch.arange(batch, device=flat[0].device).repeat_interleave(noise.n_samples)
    generator = torch.Generator(device="cpu").manual_seed(noise.seed)
    noisy = []
    for point in points:
        x = (point.start + point.delta)[source]
        dims = tuple(range(1, x.dim()))
        spread = (
            (x.amax(dim=dims, keepdim=True) - x.amin(dim=dims, keepdim=True)) if dims else x.abs()
        )
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        start = point.start[source]
        noisy.append(replace(point, start=start, delta=x + eps * noise.level * spread - start))

    def rows(v: Any) -> Any:
        return (
            v[source] if isinstance(v, torch.Tensor) and v.dim() > 0 and v.shape[0] == batch else v
        )

    kwargs = {k: rows(v) for k, v in kwargs.items()}
    return (
        noisy,
        [x[source] for x in flat],
        tuple(rows(v) for v in args),
        kwargs,
        target.repeated(source),
    )


def aggregate(noise: Noise, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine per-sample attributions (batch * n_samples, ...) into (batch, ...) and their std."""
    samples = values.reshape(-1, noise.n_samples, *values.shape[1:])
    std = samples.std(dim=1, unbiased=False)
    if noise.kind == "smoothgrad":
        return samples.mean(dim=1), std
    if noise.kind == "smoothgrad_sq":
        return (samples**2).mean(dim=1), std
    return samples.var(dim=1, unbiased=False), std


def mean_over_samples(noise: Noise, values: torch.Tensor) -> torch.Tensor:
    """Mean over each example's samples: (batch * n_samples, ...) -> (batch, ...)."""
    return values.reshape(-1, noise.n_samples, *values.shape[1:]).mean(dim=1)


def rank_stability(samples: torch.Tensor, keep: torch.Tensor) -> float | None:
    """How alike the noisy samples rank the kept scores: 1 when every sample orders them as
    their mean does, near 0 when the order is left to chance.

    The mean, over samples, of the Spearman rank correlation between a sample's scores and the
    mean scores, both restricted to ``keep``.

    Args:
        samples: (n_samples, n) scores of one row, one line per noisy sample.
        keep: (n,) bool: the scores that count (for example the visible, non-special tokens).

    Returns:
        The figure, or None when fewer than two scores are kept (there is no order to compare).
    """
    kept = samples[:, keep].double()
    if kept.shape[1] < 2:
        return None
    ranks = torch.cat([kept, kept.mean(0, keepdim=True)]).argsort(1).argsort(1).double()
    centred = ranks - ranks.mean(1, keepdim=True)
    unit = centred / centred.norm(dim=1, keepdim=True)
    return float((unit[:-1] @ unit[-1]).mean())
