"""One phrase that says how an explanation was integrated, shared by every view."""

from __future__ import annotations


def integration(method: str, n_evals: int, error_estimate: float | None) -> str:
    """E.g. ``"adaptive, 65 evaluations, estimated error 3.1e-05"``; plain text (escape for HTML).

    The estimate is the relative L2 error of the attributions that adaptive integration
    reports; fixed rules have none, and then only the rule and its evaluations are named.
    """
    text = f"{method}, {n_evals} evaluations"
    if error_estimate is not None:
        text += f", estimated error {float(error_estimate):.1e}"
    return text
