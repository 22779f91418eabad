"""Adaptive integration along the path to a requested accuracy: nested Clenshaw-Curtis
through a per-example sinh map.

First, where the points go: a sinh map alpha(u) clusters them where the integrand of a
text classifier is busiest (see :mod:`integrad.core.pathmap`; the map is fixed, or chosen
per example from forward-only probes). Then the integral of f(alpha(u)) alpha'(u) over u
in [0, 1] is computed by nested rules: u is covered by panels, each integrated with the
Clenshaw-Curtis rules of 8, 15, 29, 57 and 113 points, which are nested: every rule reuses
all the points of the one before, so going up a level costs only the new points. A panel
starts at 15 points (the 8-point rule comes free) and climbs while its estimate is above
its share of the tolerance; a panel still too coarse at 113 points is halved, and each
half starts again at 15. The sizes follow the measured need: on held-out tweets the best
rule through the best map needs about 24 points at tol=1e-3, so the 29-point level is
where most texts should stop, while doubling from 13 would stop them at 25 or 49. Every
round evaluates the new points of all unfinished examples together, in one chunked batch;
a finished example costs nothing more.

Why this shape: along the straight path of a transformer text classifier the integrand is
smooth but busy, with one bump (measured by ``benchmarks/bench_limits.py``: Gauss-Legendre
needs about 33 points on average for a relative error of 1e-3, and 24 through a sinh map
chosen per text with hindsight), so one high-order rule over the whole mapped path beats
many small panels, and nesting means no evaluation is thrown away. Panels remain for
integrands with several sharp transitions (steep sigmoids, a ReLU kink).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from integrad.core.integrand import Integrand
from integrad.core.pathmap import PROBES, SinhMap, fit_map
from integrad.errors import IntegradError, IntegradWarning

#: Rule sizes: level l uses LEVEL_SIZES[l] + 1 Chebyshev points on the panel.
LEVEL_SIZES = (7, 14, 28, 56, 112)
#: The level a new panel starts at: 15 points, which hold the 8-point rule too, so even the
#: first estimate has a coarser rule to compare with.
FIRST_LEVEL = 1
#: No estimate goes below this many units of round-off of the model's dtype (relative to
#: the attributions): gradients computed in float32 carry about 1e-7 relative noise.
ROUNDOFF_UNITS = 8
#: A panel's error estimate is ERROR_SAFETY * |S_l - S_(l-1)| * min(r, 1) ** RATIO_POWER
#: (see :func:`_errors`), calibrated on development tweets and checked on held-out ones by
#: ``benchmarks/bench_adaptive.py``.
ERROR_SAFETY = 0.4
RATIO_POWER = 0.5


def _chebyshev_points(n: int) -> np.ndarray:
    """The n + 1 Chebyshev-Lobatto points on [0, 1], increasing."""
    return (1 - np.cos(np.pi * np.arange(n + 1) / n)) / 2


def _clenshaw_curtis_weights(n: int) -> np.ndarray:
    """Weights of the (n + 1)-point Clenshaw-Curtis rule on [0, 1]: the weights that integrate
    the Chebyshev polynomials T_0 ... T_n exactly at the Chebyshev-Lobatto points (any n)."""
    theta = np.pi * np.arange(n + 1) / n
    k = np.arange(n + 1)
    moments = np.where(k % 2 == 0, 1 / (1 - k**2 + (k % 2)), 0.0)  # of T_k(1 - 2 alpha)
    return np.linalg.solve(np.cos(np.outer(k, theta)), moments)


def nested_rules() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finest level's points, each point's weight at every level, and its first level.

    Returns:
        points (P,), weights (levels, P) with zeros where a level lacks the point, and
        first (P,), the lowest level that has the point.
    """
    finest = LEVEL_SIZES[-1]
    points = _chebyshev_points(finest)
    weights = np.zeros((len(LEVEL_SIZES), finest + 1))
    first = np.full(finest + 1, len(LEVEL_SIZES))
    for level, n in reversed(list(enumerate(LEVEL_SIZES))):
        step = finest // n
        weights[level, ::step] = _clenshaw_curtis_weights(n)
        first[::step] = level
    return points, weights, first


POINTS, LEVEL_WEIGHTS, FIRST_SEEN = nested_rules()
#: Which of the finest level's points a new panel evaluates, and how many that is.
_START = FIRST_SEEN <= FIRST_LEVEL
FIRST_EVALS = int(_START.sum())
#: Points a panel adds when it goes up to each level.
_ADDED = np.bincount(FIRST_SEEN, minlength=len(LEVEL_SIZES))
_TOP = len(LEVEL_SIZES) - 1


@dataclass
class AdaptiveResult:
    """Attributions and diagnostics.

    Attributes:
        attributions: Per point, (batch, K, *shape).
        error_estimate: Estimated relative L2 error of each example's attributions, (batch,).
        n_evals: Gradient evaluations per example, (batch,).
        n_probes: Forward-only evaluations per example spent choosing the map, (batch,).
        path_map: The map each example was integrated through.
    """

    attributions: list[torch.Tensor]
    error_estimate: torch.Tensor
    n_evals: torch.Tensor
    n_probes: torch.Tensor
    path_map: SinhMap


@dataclass
class _Panels:
    """Every live panel: its example, its ends, its level, and its sums at every level."""

    owner: torch.Tensor  # (panels,)
    lo: torch.Tensor
    hi: torch.Tensor
    level: torch.Tensor
    sums: list[torch.Tensor]  # per point, (panels, levels, K, *shape): integrals * delta


def integrate_adaptive(
    integrand: Integrand,
    deltas: list[torch.Tensor],
    tol: float,
    max_evals: int,
    chunk_rows: int,
    dtype: torch.dtype,
    ends: tuple[torch.Tensor, torch.Tensor] | None = None,
    path_map: SinhMap | str = "default",
) -> AdaptiveResult:
    """Integrate every example of ``integrand`` to relative L2 error ``tol`` of its attributions.

    Args:
        integrand: The path integrand.
        deltas: Input minus baseline per point, (batch, *shape): the attributions are the
            integrals times these, so the error is measured on that product.
        tol: Target relative L2 error of each example's attribution vector.
        max_evals: Most gradient evaluations per example.
        chunk_rows: Rows per forward/backward.
        dtype: Accumulation dtype.
        ends: The target scores at the baseline and at the input, (batch, K) each, which
            the caller knows already: they join the probes that choose the map. Without
            them, the probes also run at both ends.
        path_map: The maps to integrate through, ``"default"`` (the same map for every
            example) or ``"probe"`` (chosen per example from forward-only probes).
    """
    if not tol > 0:
        raise IntegradError(f"tol must be > 0, got {tol!r}")
    if max_evals < FIRST_EVALS:
        raise IntegradError(f"max_evals must be at least {FIRST_EVALS} (the first rule's points)")
    floor = ROUNDOFF_UNITS * torch.finfo(deltas[0].dtype).eps
    if tol < floor:
        raise IntegradError(
            f"tol={tol:g} is below what {deltas[0].dtype} gradients can resolve (about "
            f"{floor:.0e} relative): ask for tol >= {floor:.0e}, or run the model in float64 "
            "(model.double() and float64 inputs)"
        )
    batch, device = deltas[0].shape[0], deltas[0].device
    deltas = [d.to(dtype) for d in deltas]
    examples = torch.arange(batch, device=device)
    n_probes = torch.zeros(batch, dtype=torch.long, device=device)
    if path_map == "probe":
        path_map, probes = _probe_map(integrand, ends, chunk_rows)
        n_probes += probes
    elif path_map == "default":
        path_map = SinhMap.default(batch, device)
    if not isinstance(path_map, SinhMap):
        raise IntegradError(f"path_map must be a SinhMap, 'default' or 'probe', got {path_map!r}")
    whole = torch.zeros(batch, dtype=torch.float64, device=device)
    panels = _Panels(examples, whole, whole + 1, torch.full_like(examples, FIRST_LEVEL), [])
    panels.sums = _zero_sums(integrand, batch, dtype, device)
    start = torch.as_tensor(_START, device=device).expand(batch, -1)
    _evaluate(integrand, panels, start, deltas, chunk_rows, path_map)
    n_evals = torch.full((batch,), FIRST_EVALS, dtype=torch.long, device=device)
    stopped_early = torch.zeros(batch, dtype=torch.bool, device=device)
    while True:
        attr_norm, err_total, panel_err = _errors(panels, batch, floor)
        budget = tol * attr_norm
        unfinished = (err_total > budget) & ~stopped_early
        # A panel is refined when its error exceeds its width's share of the budget; the
        # shares add up to the budget, so an unfinished example always has one to refine.
        refine = unfinished[panels.owner] & (
            panel_err > budget[panels.owner] * (panels.hi - panels.lo)
        )
        at_top = panels.level == _TOP
        added = torch.as_tensor(_ADDED, device=device)[(panels.level + 1).clamp(max=_TOP)]
        cost = torch.where(at_top, 2 * FIRST_EVALS, added)
        refine &= _within_budget(panels.owner, cost * refine, n_evals, max_evals)
        has_work = torch.zeros(batch, dtype=torch.bool, device=device)
        has_work[panels.owner[refine]] = True
        stopped_early |= unfinished & ~has_work
        if not refine.any():
            break
        n_evals.index_add_(0, panels.owner[refine], cost[refine])
        panels = _refine(
            integrand, panels, refine & ~at_top, refine & at_top, deltas, chunk_rows, path_map
        )
    if stopped_early.any():
        worst = (err_total / attr_norm.clamp_min(1e-300)).max().item()
        warnings.warn(
            f"adaptive integration stopped at max_evals={max_evals} before reaching tol={tol:g} "
            f"for {int(stopped_early.sum())} of {batch} examples (worst estimated relative error "
            f"{worst:.2g}); raise max_evals or tol",
            IntegradWarning,
            stacklevel=4,
        )
    attributions = []
    for s in panels.sums:
        top = s[torch.arange(s.shape[0], device=device), panels.level]  # (panels, K, *shape)
        total = torch.zeros((batch, *top.shape[1:]), dtype=dtype, device=device)
        attributions.append(total.index_add_(0, panels.owner, top))
    relative = torch.where(attr_norm > 0, err_total / attr_norm.clamp_min(1e-300), err_total)
    return AdaptiveResult(attributions, relative, n_evals, n_probes, path_map)


def _probe_map(
    integrand: Integrand, ends: tuple[torch.Tensor, torch.Tensor] | None, chunk_rows: int
) -> tuple[SinhMap, int]:
    """Each example's map, from forward-only probes of its target score along the path, and
    the probes spent per example."""
    batch, device = integrand.batch, integrand.points[0].start.device
    inner = torch.tensor(PROBES, dtype=torch.float64, device=device)
    alphas = (
        inner if ends is not None else torch.cat([inner.new_zeros(1), inner, inner.new_ones(1)])
    )
    examples = torch.arange(batch, device=device)
    # Rows are probe-major: every example at the first probe, then at the second, ...
    scores = integrand.values(
        examples.repeat(alphas.shape[0]), alphas.repeat_interleave(batch), chunk_rows
    )
    values = scores.to(torch.float64).reshape(alphas.shape[0], batch, -1).permute(1, 0, 2)
    if ends is not None:
        lo, hi = (e.to(device=device, dtype=torch.float64).reshape(batch, 1, -1) for e in ends)
        values = torch.cat([lo, values, hi], 1)
        alphas = torch.cat([inner.new_zeros(1), inner, inner.new_ones(1)])
    # Several targets: the map follows the one whose score changes most along the path.
    change = (values[:, -1] - values[:, 0]).abs()  # (batch, K)
    column = change.argmax(1)
    values = values[examples, :, column]  # (batch, P)
    return fit_map(alphas, values), alphas.shape[0] - (2 if ends is not None else 0)


def _within_budget(
    owner: torch.Tensor, cost: torch.Tensor, n_evals: torch.Tensor, max_evals: int
) -> torch.Tensor:
    """Which panels may be refined this round: each example's panels in turn, while the
    example's evaluations stay within ``max_evals``."""
    order = torch.argsort(owner, stable=True)
    sorted_owner, sorted_cost = owner[order], cost[order]
    spent = torch.cumsum(sorted_cost, 0)
    first = torch.searchsorted(sorted_owner, sorted_owner)  # each example's first panel
    spent = spent - (spent[first] - sorted_cost[first])  # running total within the example
    ok = torch.empty_like(owner, dtype=torch.bool)
    ok[order] = n_evals[sorted_owner] + spent <= max_evals
    return ok


def _refine(
    integrand: Integrand,
    panels: _Panels,
    climb: torch.Tensor,
    split: torch.Tensor,
    deltas: list[torch.Tensor],
    chunk_rows: int,
    path_map: SinhMap,
) -> _Panels:
    """Panels after one round: ``climb`` go up a level, ``split`` are replaced by halves."""
    keep, idx = ~split, split.nonzero().squeeze(1)
    mid = (panels.lo[idx] + panels.hi[idx]) / 2
    level = panels.level[keep] + climb[keep].long()
    halves = 2 * idx.shape[0]
    out = _Panels(
        owner=torch.cat([panels.owner[keep], panels.owner[idx].repeat(2)]),
        lo=torch.cat([panels.lo[keep], panels.lo[idx], mid]),
        hi=torch.cat([panels.hi[keep], mid, panels.hi[idx]]),
        level=torch.cat([level, torch.full_like(idx, FIRST_LEVEL).repeat(2)]),
        sums=[],
    )
    dtype, device = panels.sums[0].dtype, idx.device
    zeros = _zero_sums(integrand, halves, dtype, device)
    out.sums = [torch.cat([s[keep], z]) for s, z in zip(panels.sums, zeros, strict=True)]
    first_seen = torch.as_tensor(FIRST_SEEN, device=device)
    gains = torch.cat([
        (first_seen[None, :] == level[:, None]) & climb[keep][:, None],
        torch.as_tensor(_START, device=device).expand(halves, -1),
    ])  # fmt: skip
    _evaluate(integrand, out, gains, deltas, chunk_rows, path_map)
    return out


def _zero_sums(
    integrand: Integrand, n: int, dtype: torch.dtype, device: torch.device
) -> list[torch.Tensor]:
    """Per point, empty sums (n, levels, K, *shape) for ``n`` new panels."""
    k = integrand.target.n_targets
    return [
        torch.zeros((n, len(LEVEL_SIZES), k, *p.start.shape[1:]), dtype=dtype, device=device)
        for p in integrand.points
    ]


def _evaluate(
    integrand: Integrand,
    panels: _Panels,
    gains: torch.Tensor,
    deltas: list[torch.Tensor],
    chunk_rows: int,
    path_map: SinhMap,
) -> None:
    """Evaluates, in one batch, the points each panel gains ((panels, P) mask over the finest
    level's points, in u) and adds them, at their weight in every level, to the panels' sums:
    a point at u stands for alpha(u), and its weight carries alpha'(u)."""
    device = panels.owner.device
    panel, point = gains.nonzero(as_tuple=True)
    width = panels.hi - panels.lo
    u = panels.lo[panel] + torch.as_tensor(POINTS, device=device)[point] * width[panel]
    alpha, slope = path_map(panels.owner[panel], u)
    weights = torch.as_tensor(LEVEL_WEIGHTS.T, device=device)[point] * width[panel, None]
    weights = weights * slope[:, None]
    n = panels.owner.shape[0]
    dtype = panels.sums[0].dtype
    sums = integrand.weighted_gradient_sums(
        panels.owner[panel], alpha, weights, panel, n, chunk_rows, dtype
    )
    for total, s, d in zip(panels.sums, sums, deltas, strict=True):
        total += s * d[panels.owner][:, None, None]


def _errors(
    panels: _Panels, batch: int, floor: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per example: attribution L2 norm and estimated error norm; per panel: its error norm.

    A panel at level l has the integrals S_l, S_(l-1), S_(l-2) of three nested rules.
    |S_l - S_(l-1)| is about the error of the coarser rule S_(l-1); S_l, which is returned,
    is more accurate. How much more is read off the panel's own convergence: the difference
    shrank by r = |S_l - S_(l-1)| / |S_(l-1) - S_(l-2)| from the level before (r = 1 at a
    panel's first level). Along a mapped path the convergence is faster than geometric,
    but how much faster varies from text to text (a factor of 30 at the 29-point level on
    development tweets), so the estimate is ERROR_SAFETY * |S_l - S_(l-1)| * min(r, 1) **
    RATIO_POWER, with the two constants calibrated so that it bounds the true error on at
    least 95% of development (text, tol) pairs. Error vectors of an example's panels add up
    elementwise; the L2 norm of that sum, but at least ``floor`` times the attribution norm,
    is the example's estimate.
    """
    rows = torch.arange(panels.owner.shape[0], device=panels.owner.device)
    level = panels.level
    dtype = panels.sums[0].dtype
    attr_sq = torch.zeros(batch, dtype=dtype, device=level.device)
    diff_sq = torch.zeros(rows.shape[0], dtype=dtype, device=level.device)
    prev_sq = torch.zeros_like(diff_sq)
    diffs = []
    for s in panels.sums:
        flat = s.reshape(*s.shape[:2], -1)
        top, below = flat[rows, level], flat[rows, level - 1]
        before = flat[rows, (level - 2).clamp(min=0)]
        total = torch.zeros((batch, top.shape[1]), dtype=dtype, device=level.device)
        attr_sq += total.index_add_(0, panels.owner, top).pow(2).sum(1)
        diffs.append((top - below).abs())
        diff_sq += diffs[-1].pow(2).sum(1)
        prev_sq += (below - before).pow(2).sum(1)
    diff, prev = diff_sq.sqrt(), prev_sq.sqrt()
    ratio = torch.where(prev > 0, diff / prev.clamp_min(1e-300), torch.ones_like(diff))
    factor = ERROR_SAFETY * ratio.clamp(max=1.0) ** RATIO_POWER
    err_sq = torch.zeros_like(attr_sq)
    for d in diffs:
        total = torch.zeros((batch, d.shape[1]), dtype=dtype, device=level.device)
        err_sq += total.index_add_(0, panels.owner, d * factor[:, None]).pow(2).sum(1)
    attr_norm = attr_sq.sqrt()
    return attr_norm, torch.maximum(err_sq.sqrt(), floor * attr_norm), diff * factor
