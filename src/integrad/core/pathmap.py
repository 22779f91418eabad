"""Where along the path the adaptive rule puts its points: a per-example sinh map.

Along the path of a text classifier the integrand has a busy bump where the prediction
flips, and is calm elsewhere. The map alpha = c + w sinh(s(u)), with s linear in u in
[0, 1] and alpha(0) = 0, alpha(1) = 1, clusters a rule's points around the centre c, the
more tightly the smaller the width w; integrating f(alpha(u)) alpha'(u) over u with a
polynomial rule is then far cheaper than integrating f over alpha, because the bump is
stretched to fill u. (A bump of scale s behaves like a function with poles at distance
about pi s from the real axis; a sinh map of width about that distance moves them far away.)

By default every example gets the same map, centred at alpha = 0.2 with width 0.15:
on development tweets of the default model (``benchmarks/bench_adaptive.py --calibrate``)
it came within a few evaluations of the best map chosen per text with hindsight. A map
can also be chosen per example from forward-only probes of the attributed score F along
the path, plus F at both ends, which the engine knows already: a logistic step
F = a + b sigmoid((alpha - c) / s) is fitted to those values by a grid over (c, s) with
(a, b) by least squares, and the map gets centre c and width ``WIDTH_PER_SCALE`` times s.
Measured on the same tweets, those maps cost more evaluations than the fixed one (F's step
is not where the attribution vector is busiest), so probing is an option, not the default.
Whatever the map, it decides only where the points go: any map gives the same integral,
and the adaptive rule's own error estimate, read under the map, says when it is reached.
A poor map costs evaluations, never accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: The map every example gets unless told otherwise (see the module docstring).
DEFAULT_CENTRE, DEFAULT_WIDTH = 0.2, 0.15
#: Where the forward-only probes look, in alpha (the ends come free from the engine).
PROBES = (0.1, 0.2, 0.35, 0.5, 0.7)
#: The map's width per unit of the fitted logistic scale (calibrated on development tweets
#: by ``benchmarks/bench_adaptive.py --calibrate``).
WIDTH_PER_SCALE = 1.0
#: Widths are kept in this range: narrower gains nothing measurable, wider is the identity.
MIN_WIDTH, MAX_WIDTH = 0.02, 2.0
#: The grid over which the logistic step is fitted.
_CENTRES = torch.linspace(-0.1, 1.1, 49, dtype=torch.float64)
_SCALES = torch.logspace(-2.3, 0.3, 27, dtype=torch.float64)


@dataclass(frozen=True)
class SinhMap:
    """Per-example sinh maps from u in [0, 1] onto alpha in [0, 1].

    Attributes:
        centre: Where the points cluster, in alpha, (batch,).
        width: How widely, in alpha, (batch,); large widths are near the identity.
    """

    centre: torch.Tensor
    width: torch.Tensor

    @classmethod
    def default(cls, batch: int, device: torch.device | str = "cpu") -> SinhMap:
        """The same map, ``DEFAULT_CENTRE`` and ``DEFAULT_WIDTH``, for every example."""
        centre = torch.full((batch,), DEFAULT_CENTRE, dtype=torch.float64, device=device)
        return cls(centre, torch.full_like(centre, DEFAULT_WIDTH))

    @classmethod
    def identity(cls, batch: int, device: torch.device | str = "cpu") -> SinhMap:
        """Maps that leave the points where they are (to within the widest width's bend)."""
        centre = torch.full((batch,), 0.5, dtype=torch.float64, device=device)
        return cls(centre, torch.full_like(centre, 1e6))

    def __call__(self, example: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha(u) and alpha'(u) of each row's example, both (rows,) float64."""
        c, w = self.centre[example], self.width[example]
        lo, hi = torch.asinh(-c / w), torch.asinh((1 - c) / w)
        s = lo + (hi - lo) * u
        return (c + w * torch.sinh(s)).clamp(0, 1), w * (hi - lo) * torch.cosh(s)

    def subset(self, examples: torch.Tensor) -> SinhMap:
        return SinhMap(self.centre[examples], self.width[examples])


def fit_map(alphas: torch.Tensor, values: torch.Tensor) -> SinhMap:
    """The map for each example from F at ``alphas`` (P,), values (batch, P) float64.

    The logistic step that fits best in least squares over the grid gives centre and scale;
    an example whose F does not change gets the widest map.
    """
    # (grid, P): the step's shape at every probe, for every (centre, scale) on the grid
    centre, scale = torch.meshgrid(_CENTRES, _SCALES, indexing="ij")
    centre, scale = centre.reshape(-1), scale.reshape(-1)
    shape = torch.sigmoid((alphas[None, :] - centre[:, None]) / scale[:, None])
    # Least squares of values ~ a + b * shape, per example and grid cell, in closed form.
    dev = shape - shape.mean(1, keepdim=True)  # (grid, P)
    v = values - values.mean(1, keepdim=True)  # (batch, P)
    sxx = (dev * dev).sum(1).clamp_min(1e-300)  # (grid,)
    sxy = v @ dev.T  # (batch, grid)
    residual = (v * v).sum(1, keepdim=True) - sxy**2 / sxx  # (batch, grid)
    best = residual.argmin(1)
    width = (WIDTH_PER_SCALE * scale[best]).clamp(MIN_WIDTH, MAX_WIDTH)
    flat = (v * v).sum(1) <= 1e-24 * (values * values).sum(1).clamp_min(1e-300)
    width = torch.where(flat, torch.full_like(width, MAX_WIDTH), width)
    return SinhMap(centre[best].clamp(0, 1), width)
