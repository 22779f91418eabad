"""The integration settings every front end shares, validated and documented once.

Every explain function, :func:`integrad.attribute` and the command line take the same
settings as keyword arguments; :meth:`Options.from_settings` checks them and fills in what
was left out. The resolved :class:`Options` is recorded in every result, so a result says
exactly how it was computed. This module imports neither torch nor numpy, so the command
line can build its arguments from it without loading either.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from integrad.errors import IntegradError

#: The fixed rule used when ``n_steps`` is given without a method, and by ``attribute`` and
#: the image, tabular and multimodal front ends when the settings imply no method.
DEFAULT_METHOD = "gausslegendre"
#: What ``explain`` (text: the Python call, the CLI, the web view and dataset runs, which all
#: resolve their settings through it) does when the settings imply no method: integrate
#: each text to ``DEFAULT_TOL`` and report the error estimate. ``n_steps=`` or a fixed
#: ``method=`` still choose a fixed rule.
DEFAULT_TEXT_METHOD = "adaptive"
#: Points per path for fixed rules.
DEFAULT_N_STEPS = 50
#: Relative L2 error allowed in each example's attributions, for ``method="adaptive"``.
DEFAULT_TOL = 1e-3
#: Most gradient evaluations per example, for ``method="adaptive"``.
DEFAULT_MAX_EVALS = 2000
#: What is attributed, by name; aliases are accepted and stored under the canonical name.
SCORES = ("logit", "probability", "log_prob")
SCORE_ALIASES = {"prob": "probability", "logprob": "log_prob", "log_probability": "log_prob"}
NOISE_KINDS = ("smoothgrad", "smoothgrad_sq", "vargrad")


@dataclass(frozen=True)
class Noise:
    """How to average attributions over noisy inputs (SmoothGrad over IG).

    Attributes:
        n_samples: Noisy copies per example.
        level: Standard deviation of the Gaussian noise as a fraction of each example's
            value range (max - min) of the attributed tensor, as in the SmoothGrad paper.
        kind: ``"smoothgrad"`` (mean attribution), ``"smoothgrad_sq"`` (mean of squares) or
            ``"vargrad"`` (variance).
        seed: Seed of the noise: the same seed gives the same attributions.

    Example:
        >>> Noise(n_samples=8, level=0.1, seed=0).n_samples
        8
    """

    n_samples: int = 10
    level: float = 0.1
    kind: str = "smoothgrad"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise IntegradError(
                f"unknown noise kind {self.kind!r}; choose one of {', '.join(NOISE_KINDS)}"
            )
        if not _is_int(self.n_samples) or self.n_samples < 1:
            raise IntegradError(f"n_samples must be a positive integer, got {self.n_samples!r}")
        if not isinstance(self.level, (int, float)) or not self.level >= 0:
            raise IntegradError(f"noise level must be a number >= 0, got {self.level!r}")


@dataclass(frozen=True)
class Options:
    """Integration settings, shared by every front end and the command line.

    Pass them as keyword arguments to any explain function or :func:`integrad.attribute`
    (``method="adaptive", tol=1e-4``), or build one and pass it as ``options=``; settings
    left as None take the front end's defaults. Every result records the resolved settings
    in ``result.options``.

    Attributes:
        method: ``"adaptive"`` (integrate each example to ``tol``) or a fixed rule from
            :func:`integrad.list_rules` (``"gausslegendre"``, ``"riemann_trapezoid"``, ...).
            Left out, it follows from the other settings: ``tol`` or ``max_evals`` ask for
            ``"adaptive"``, ``n_steps`` for ``"gausslegendre"``; otherwise the front end's
            default.
        n_steps: Points on the path per example, for fixed rules (default 50).
        tol: Relative L2 error allowed in each example's attributions, for ``"adaptive"``
            (default 1e-3).
        max_evals: Most gradient evaluations per example, for ``"adaptive"`` (default 2000);
            a warning says when it stops an example before ``tol``.
        noise: Average over noisy copies of the input: a :class:`Noise`, or a number of
            samples (``noise=10`` is ``Noise(n_samples=10)``).
        batch_size: Most rows (path points x examples) per forward and backward pass; None
            sizes them to ``memory_budget``.
        memory_budget: Bytes that one chunk's forward and backward, plus the integration's
            accumulators, may take (default 1 GiB, or ``INTEGRAD_MEMORY_BUDGET``).
        score: What is attributed: ``"logit"`` (the output itself), ``"probability"``
            (softmax) or ``"log_prob"`` (log-softmax); ``"prob"`` and ``"logprob"`` are
            accepted too.

    Example:
        >>> Options(tol=1e-4).resolved().method
        'adaptive'
    """

    method: str | None = None
    n_steps: int | None = None
    tol: float | None = None
    max_evals: int | None = None
    noise: Noise | int | None = None
    batch_size: int | None = None
    memory_budget: int | None = None
    score: str | None = None

    def __post_init__(self) -> None:
        if self.method is not None:
            _check_method(self.method)
        if self.n_steps is not None:
            _positive_int(self.n_steps, "n_steps")
        if self.tol is not None:
            object.__setattr__(self, "tol", _tol(self.tol))
        for name in ("max_evals", "batch_size", "memory_budget"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), name)
        if _is_int(self.noise):
            object.__setattr__(self, "noise", Noise(n_samples=self.noise))
        if self.noise is not None and not isinstance(self.noise, Noise):
            raise IntegradError(
                f"noise must be an integrad.Noise or a number of samples, got {self.noise!r}"
            )
        if self.score is not None:
            object.__setattr__(self, "score", score_name(self.score))
        adaptive = self.method == "adaptive"
        if adaptive and self.n_steps is not None:
            raise IntegradError(
                "n_steps applies to fixed rules, but method='adaptive' chooses its own points; "
                "drop n_steps (and set tol= for the accuracy), or choose a fixed rule"
            )
        for name in ("tol", "max_evals"):
            if self.method is not None and not adaptive and getattr(self, name) is not None:
                raise IntegradError(
                    f"{name} applies to method='adaptive', but method={self.method!r} is a "
                    f"fixed rule that ignores it; pass method='adaptive' with {name}=, or drop "
                    f"{name}"
                )

    @property
    def adaptive(self) -> bool:
        """Whether the method integrates to a tolerance."""
        return self.method == "adaptive"

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The setting names, in the order they are documented."""
        return tuple(f.name for f in fields(cls))

    def resolved(
        self, default_method: str = DEFAULT_METHOD, default_score: str = "logit"
    ) -> Options:
        """A copy with every setting the method uses filled in and the others None."""
        method = self.method
        if method is None:
            if self.tol is not None or self.max_evals is not None:
                method = "adaptive"
            elif self.n_steps is not None:
                method = DEFAULT_METHOD
            else:
                method = default_method
        adaptive = method == "adaptive"
        return Options(
            method=method,
            n_steps=None if adaptive else (self.n_steps or DEFAULT_N_STEPS),
            tol=(self.tol or DEFAULT_TOL) if adaptive else None,
            max_evals=(self.max_evals or DEFAULT_MAX_EVALS) if adaptive else None,
            noise=self.noise,
            batch_size=self.batch_size,
            memory_budget=self.memory_budget,
            score=self.score or default_score,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        default_method: str = DEFAULT_METHOD,
        default_score: str = "logit",
        function: str = "this function",
    ) -> Options:
        """Check the keyword settings a front end received and resolve them.

        Args:
            settings: Keyword arguments: any of :meth:`names`, and ``options=`` holding an
                :class:`Options` whose settings the others override.
            default_method: The front end's rule when the settings do not imply one.
            default_score: The front end's score when none is given.
            function: The caller's name, for error messages.

        Raises:
            IntegradError: An unknown setting (the message suggests the closest name), or
                settings that contradict each other, such as ``tol`` with a fixed rule.
        """
        given = dict(settings)
        base = given.pop("options", None)
        if base is not None and not isinstance(base, Options):
            raise IntegradError(f"options must be an integrad.Options, got {type(base).__name__}")
        unknown = [name for name in given if name not in cls.names()]
        if unknown:
            raise IntegradError(_unknown_message(unknown, function))
        if base is not None:
            given = {**{f: getattr(base, f) for f in cls.names()}, **given}
        return cls(**given).resolved(default_method, default_score)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (``noise`` as a dict or None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Options:
        """Rebuilds options written by :meth:`to_dict`."""
        values = dict(data)
        if isinstance(values.get("noise"), Mapping):
            values["noise"] = Noise(**values["noise"])
        return cls(**values)


def score_name(score: Any) -> str:
    """The canonical name of a score (``"prob"`` -> ``"probability"``), checked."""
    name = SCORE_ALIASES.get(score, score) if isinstance(score, str) else score
    if name not in SCORES:
        raise IntegradError(
            f"unknown score {score!r}; choose one of {', '.join(SCORES)} (or 'prob', 'logprob')"
        )
    return name


def renamed(settings: dict[str, Any], renames: Mapping[str, str], function: str) -> dict[str, Any]:
    """Take the old spellings out of ``settings``, warn about each, and return their values
    under the new names (for the keywords renamed in this release)."""
    found = {}
    for old, new in renames.items():
        if old in settings:
            deprecated(old, new, function, stacklevel=4)
            found[new] = settings.pop(old)
    return found


def deprecated(old: str, new: str, function: str, stacklevel: int = 3) -> None:
    """Warn that keyword ``old`` of ``function`` is now ``new`` (kept for one release)."""
    warnings.warn(
        f"{function}({old}=...) is deprecated and will be removed in the next release; "
        f"use {new}=... instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def _check_method(method: Any) -> None:
    from integrad.core.rules import list_rules

    valid = [*list_rules(), "adaptive"]
    if method not in valid:
        raise IntegradError(f"unknown method {method!r}; choose one of {', '.join(valid)}")


#: Arguments of :func:`integrad.attribute` that explain functions set themselves (or take
#: under their own name), so passing them as settings gets a message that says so.
ENGINE_ARGUMENTS = (
    "model",
    "forward",
    "inputs",
    "baselines",
    "layer",
    "layer_baseline",
    "layer_baselines",
    "attribute_to_layer_input",
    "multiply_by_inputs",
    "forward_args",
    "forward_kwargs",
    "labels",
)


def _unknown_message(unknown: list[str], function: str) -> str:
    engine = [name for name in unknown if name in ENGINE_ARGUMENTS]
    if engine:
        name = engine[0]
        hint = " (its baseline is baseline=)" if name == "baselines" else ""
        return (
            f"{function} sets {name!r} itself{hint}; use its own arguments, or call "
            "integrad.attribute directly for full control"
        )
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, Options.names(), n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"{function} got unknown setting(s) {', '.join(hints)}; the integration settings are "
        f"{', '.join(Options.names())} (see integrad.Options)"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any, name: str = "n_steps") -> int:
    if not _is_int(value) or value < 1:
        raise IntegradError(f"{name} must be a positive integer, got {value!r}")
    return value


def _tol(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise IntegradError(f"tol must be a number > 0, got {value!r}")
    return float(value)
