"""The integration settings as command-line options, built from :class:`integrad.Options`.

Every subcommand that integrates takes the same options, with the same names and help, so
they are added here once. Nothing here imports torch: ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
from typing import Any

from integrad.options import DEFAULT_MAX_EVALS, DEFAULT_N_STEPS, DEFAULT_TOL, SCORES

#: Option -> (settings name, type, help). Left out, a setting takes the command's default.
_ARGUMENTS: dict[str, tuple[str, Any, str]] = {
    "--method": (
        "method",
        str,
        "integration rule: adaptive, gausslegendre, riemann_trapezoid, riemann_middle, ... "
        "(default: the command's; --tol implies adaptive, --steps a fixed rule)",
    ),
    "--steps": ("n_steps", int, f"points on the path for fixed rules ({DEFAULT_N_STEPS})"),
    "--tol": (
        "tol",
        float,
        f"relative error allowed in each input's scores, for adaptive integration ({DEFAULT_TOL})",
    ),
    "--max-evals": (
        "max_evals",
        int,
        f"most gradient evaluations per input, for adaptive integration ({DEFAULT_MAX_EVALS})",
    ),
    "--noise": ("noise", int, "average over N noisy copies of each input (SmoothGrad over IG)"),
    "--batch-size": ("batch_size", int, "most rows per forward/backward (default: by memory)"),
    "--memory-budget": ("memory_budget", int, "bytes one chunk may use (default 1 GiB)"),
    "--score": ("score", str, f"what is attributed: {', '.join(SCORES)} (default: the command's)"),
}


def add_integration_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the integration settings to a subcommand's parser, in a group of their own."""
    group = parser.add_argument_group("integration (see integrad.Options)")
    for flag, (dest, kind, text) in _ARGUMENTS.items():
        extra = {"choices": SCORES} if dest == "score" else {}
        flags = ("-n", flag) if dest == "n_steps" else (flag,)
        group.add_argument(*flags, dest=dest, type=kind, default=None, help=text, **extra)


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user gave, as keyword arguments (left-out ones are omitted)."""
    names = {dest for dest, _, _ in _ARGUMENTS.values()}
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
