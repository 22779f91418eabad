"""Noise averaging (SmoothGrad over IG): attributions averaged over noisy copies of the input.

The copies become extra examples of one batch, so every sample shares the batched
forward/backward passes instead of running one attribution per sample. For layer points
(token embeddings) the noise goes on the layer's activations, never on integer ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from integrad.core.integrand import Point
from integrad.errors import IntegradError
from integrad.targets import ResolvedTarget

KINDS = ("smoothgrad", "smoothgrad_sq", "vargrad")


@dataclass(frozen=True)
class Noise:
    """How to average attributions over noisy inputs.

    Attributes:
        n_samples: Noisy copies per example.
        level: Standard deviation of the Gaussian noise as a fraction of each example's
            value range (max - min) of the attributed tensor, as in the SmoothGrad paper.
        kind: ``"smoothgrad"`` (mean attribution), ``"smoothgrad_sq"`` (mean of squares) or
            ``"vargrad"`` (variance).
        seed: Seed of the noise: the same seed gives the same attributions.

    Example:
        >>> noise = Noise(n_samples=8, level=0.1, seed=0)
    """

    n_samples: int = 10
    level: float = 0.1
    kind: str = "smoothgrad"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise IntegradError(
                f"unknown noise kind {self.kind!r}; choose one of {', '.join(KINDS)}"
            )
        if not isinstance(self.n_samples, int) or self.n_samples < 1:
            raise IntegradError(f"n_samples must be a positive integer, got {self.n_samples!r}")
        if not self.level >= 0:
            raise IntegradError(f"noise level must be >= 0, got {self.level!r}")


def expand(
    noise: Noise,
    points: list[Point],
    flat: list[torch.Tensor],
    kwargs: dict[str, Any],
    target: ResolvedTarget,
) -> tuple[list[Point], list[torch.Tensor], dict[str, Any], ResolvedTarget]:
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
    kwargs = {
        k: v[source] if isinstance(v, torch.Tensor) and v.dim() > 0 and v.shape[0] == batch else v
        for k, v in kwargs.items()
    }
    return noisy, [x[source] for x in flat], kwargs, target.repeated(source)


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
