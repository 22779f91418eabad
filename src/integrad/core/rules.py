"""Integration rules on the path parameter alpha in [0, 1], kept as data.

Each rule maps a number of points ``n`` to ``(alphas, weights)``: the points where the
gradient is evaluated and the weights of the quadrature sum. Adding a rule is one
``register_rule`` call; the tests iterate over ``list_rules()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from integrad.errors import IntegradError

Rule = Callable[[int], tuple[np.ndarray, np.ndarray]]


def _riemann(offset: float) -> Rule:
    def rule(n: int) -> tuple[np.ndarray, np.ndarray]:
        alphas = (np.arange(n, dtype=np.float64) + offset) / n
        return alphas, np.full(n, 1.0 / n)

    return rule


def _trapezoid(n: int) -> tuple[np.ndarray, np.ndarray]:
    # The composite trapezoid rule on n points has n - 1 intervals of width 1/(n-1), and
    # its weights sum to one. (Captum weighs linspace(0, 1, n) by 1/n with halved ends,
    # so its weights sum to (n-1)/n and its attributions come out low by 1/n.)
    if n < 2:
        raise IntegradError("riemann_trapezoid needs n_steps >= 2 (it uses both end points)")
    weights = np.full(n, 1.0 / (n - 1))
    weights[[0, -1]] /= 2
    return np.linspace(0.0, 1.0, n), weights


def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(n)
    # leggauss integrates over [-1, 1]; map to [0, 1].
    return (nodes + 1.0) / 2.0, weights / 2.0


_RULES: dict[str, Rule] = {
    "riemann_left": _riemann(0.0),
    "riemann_right": _riemann(1.0),
    "riemann_middle": _riemann(0.5),
    "riemann_trapezoid": _trapezoid,
    "gausslegendre": _gauss_legendre,
}


def register_rule(name: str, rule: Rule, overwrite: bool = False) -> None:
    """Add an integration rule under ``name``.

    Args:
        name: The name users pass as ``method=``.
        rule: ``rule(n) -> (alphas, weights)``, both 1-D arrays of length n.
        overwrite: Replace an existing rule of that name instead of refusing.
    """
    if name in _RULES and not overwrite:
        raise IntegradError(f"a rule named {name!r} exists; pass overwrite=True to replace it")
    _RULES[name] = rule
    _points.cache_clear()


def list_rules() -> list[str]:
    """Names of the fixed integration rules, in registration order."""
    return list(_RULES)


def rule_points(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate rule ``name`` at ``n`` points, with the checks every rule shares."""
    if name not in _RULES:
        raise IntegradError(
            f"unknown method {name!r}; choose one of {', '.join([*list_rules(), 'adaptive'])}"
        )
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise IntegradError(f"n_steps must be a positive integer, got {n!r}")
    return _points(name, n)


@functools.lru_cache(maxsize=64)
def _points(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A rule's points and weights, computed once per (rule, n): Gauss-Legendre's nodes
    for hundreds of points take seconds to find. The arrays are read-only."""
    alphas, weights = (np.array(v, dtype=np.float64) for v in _RULES[name](n))
    alphas.flags.writeable = weights.flags.writeable = False
    return alphas, weights
