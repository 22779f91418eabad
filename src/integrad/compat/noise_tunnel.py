"""Captum's ``NoiseTunnel``: attributions averaged over noisy copies of the inputs.

This follows Captum's semantics, which differ from integrad's own ``noise=``
(:class:`integrad.Noise`) in two ways: the Gaussian noise goes on the model's inputs (before
any layer) with absolute standard deviations ``stdevs``, where ``integrad.Noise`` scales it
to each example's value range and, for layer attribution, puts it on the layer's tensors;
and baselines may be drawn per sample from a set (``draw_baseline_from_distrib``).

The noise is drawn the way Captum draws it, from torch's global generator, and the
baselines from numpy's, so after ``torch.manual_seed(s)`` (and ``np.random.seed(s)``) the
noisy inputs, and so the attributions, are Captum's. All samples go through the engine in
one call (its batching applies) and are combined by :func:`integrad.core.noise.aggregate`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from integrad.core.noise import aggregate
from integrad.core.structure import Structure, flatten, per_input
from integrad.errors import InputError, IntegradError, ModelError
from integrad.options import Noise


class NoiseTunnel:
    """Captum's ``NoiseTunnel`` around :mod:`integrad.compat.captum`'s IG classes.

    Args:
        attribution_method: An ``IntegratedGradients`` or ``LayerIntegratedGradients`` from
            :mod:`integrad.compat.captum`.

    Example:
        >>> import torch
        >>> from integrad.compat.captum import IntegratedGradients, NoiseTunnel
        >>> nt = NoiseTunnel(IntegratedGradients(torch.nn.Linear(3, 2)))
        >>> nt.attribute(torch.ones(2, 3), nt_type="vargrad", stdevs=0.1, target=0).shape
        torch.Size([2, 3])
    """

    def __init__(self, attribution_method: Any) -> None:
        if not hasattr(attribution_method, "_attribution"):
            raise ModelError(
                f"NoiseTunnel wraps integrad.compat.captum's IntegratedGradients or "
                f"LayerIntegratedGradients; got {type(attribution_method).__name__}"
            )
        self.attribution_method = attribution_method
        self.forward_func = attribution_method.forward_func
        self.is_delta_supported = True

    @property
    def multiplies_by_inputs(self) -> bool:
        """Whether the wrapped method's attributions include the (input - baseline) factor."""
        return self.attribution_method.multiplies_by_inputs

    def has_convergence_delta(self) -> bool:
        """The wrapped IG method has a completeness error: always True."""
        return True

    def attribute(
        self,
        inputs: torch.Tensor | tuple[torch.Tensor, ...],
        nt_type: str = "smoothgrad",
        nt_samples: int = 5,
        nt_samples_batch_size: int | None = None,
        stdevs: float | tuple[float, ...] = 1.0,
        draw_baseline_from_distrib: bool = False,
        **kwargs: Any,
    ) -> Any:
        """The wrapped method's attributions, over ``nt_samples`` noisy copies per example.

        Args:
            inputs: As in the wrapped method's ``attribute`` (float tensors: the noise is
                added to them).
            nt_type: ``"smoothgrad"`` (mean), ``"smoothgrad_sq"`` (mean of squares) or
                ``"vargrad"`` (variance) over the samples.
            nt_samples: Noisy copies per example.
            nt_samples_batch_size: Copies drawn at a time (the draws follow Captum's order);
                the forward passes are sized by ``internal_batch_size`` or integrad's memory
                budget either way.
            stdevs: Standard deviation of the noise, in the inputs' units: one number, or a
                tuple with one per input.
            draw_baseline_from_distrib: Draw each sample's baseline from the rows of
                ``baselines`` (a set of baselines) instead of pairing them with the inputs.
            **kwargs: The wrapped method's ``attribute`` arguments (``baselines``, ``target``,
                ``additional_forward_args``, ``n_steps``, ``method``,
                ``return_convergence_delta``, ...).

        Returns:
            The aggregated attributions in the wrapped method's form, or
            ``(attributions, delta)`` where ``delta`` holds each sample's completeness
            error, (batch * nt_samples,), in Captum's order.
        """
        noise = Noise(n_samples=nt_samples, kind=nt_type)
        flat, structure = flatten(inputs)
        for key, x in zip(structure.keys, flat, strict=True):
            if not x.is_floating_point():
                raise InputError(
                    f"NoiseTunnel adds Gaussian noise to every input, but input {key!r} holds "
                    f"{x.dtype} values (token ids?), which noise turns into meaningless "
                    "non-ids. Put the noise on the embeddings instead: integrad.attribute("
                    "model, ids, layer=model.get_input_embeddings(), "
                    "noise=integrad.Noise(n_samples=..., level=...))"
                )
        parts = _partitions(nt_samples, nt_samples_batch_size)
        noisy = _noisy(flat, _stdevs(stdevs, len(flat)), parts)
        return_delta = kwargs.pop("return_convergence_delta", False)
        batch = flat[0].shape[0]

        def expand(value: torch.Tensor) -> torch.Tensor:  # per example -> per sample
            return value.repeat_interleave(nt_samples, dim=0)

        if "baselines" in kwargs:
            kwargs["baselines"] = _baselines(
                kwargs["baselines"], structure, batch, nt_samples, draw_baseline_from_distrib
            )
        if "target" in kwargs:
            kwargs["target"] = _target(kwargs["target"], nt_samples)
        if kwargs.get("additional_forward_args") is not None:
            args = kwargs["additional_forward_args"]
            args = args if isinstance(args, tuple) else (args,)
            kwargs["additional_forward_args"] = tuple(
                expand(a) if isinstance(a, torch.Tensor) and a.dim() > 0 else a for a in args
            )
        result = self.attribution_method._attribution(structure.unflatten(noisy), **kwargs)
        attributions = _map(lambda a: aggregate(noise, a)[0], result.attributions)
        if not return_delta:
            return attributions
        # Captum's order: group by group, each example's samples together within a group
        groups = result.delta.reshape(batch, nt_samples).split(parts, dim=1)
        delta = torch.cat([group.reshape(-1) for group in groups])
        return attributions, delta.to(_first(attributions).dtype)


def _partitions(n_samples: int, batch_size: int | None) -> list[int]:
    """How many samples Captum draws at a time: full groups of ``batch_size``, then the rest."""
    if batch_size is None:
        return [n_samples]
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise IntegradError(
            f"nt_samples_batch_size must be a positive integer or None, got {batch_size!r}"
        )
    size = min(batch_size, n_samples)
    rest = n_samples % size
    return [size] * (n_samples // size) + ([rest] if rest else [])


def _stdevs(stdevs: Any, n_inputs: int) -> list[float]:
    if isinstance(stdevs, tuple):
        if len(stdevs) != n_inputs:
            raise IntegradError(
                f"stdevs has {len(stdevs)} values for {n_inputs} inputs; give one per input, "
                "or one number for all"
            )
        values = list(stdevs)
    else:
        values = [stdevs] * n_inputs
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise IntegradError(f"stdevs must be numbers >= 0, got {stdevs!r}")
    return [float(v) for v in values]


def _noisy(flat: list[torch.Tensor], stdevs: list[float], parts: list[int]) -> list[torch.Tensor]:
    """Each input repeated per sample (example-major) plus noise, drawn in Captum's order:
    group by group, input by input, one ``torch.normal`` call each."""
    pieces: list[list[torch.Tensor]] = [[] for _ in flat]
    for k in parts:
        for i, (x, stdev) in enumerate(zip(flat, stdevs, strict=True)):
            shape = (x.shape[0] * k, *x.shape[1:])
            noise = torch.normal(0.0, torch.full(shape, stdev, device=x.device))
            noisy = x.detach().repeat_interleave(k, dim=0) + noise
            pieces[i].append(noisy.reshape(x.shape[0], k, *x.shape[1:]))
    # (batch, nt_samples, ...) -> (batch * nt_samples, ...), example i's samples together
    return [torch.cat(p, dim=1).flatten(0, 1) for p in pieces]


def _baselines(baselines: Any, structure: Structure, batch: int, n: int, draw: bool) -> Any:
    """Baselines for the expanded batch: repeated per sample, or drawn from their rows."""
    if baselines is None:
        return None
    out = []
    for b in per_input(baselines, structure, "baselines"):
        if isinstance(b, torch.Tensor) and b.dim() > 0:
            if draw:  # numpy's generator, as Captum: np.random.seed fixes the draw
                b = b[np.random.choice(b.shape[0], n * batch).tolist()]
            elif b.shape[0] == batch and batch > 1:
                b = b.repeat_interleave(n, dim=0)
        out.append(b)
    return structure.unflatten(out)


def _target(target: Any, n: int) -> Any:
    """Per-example targets repeated for each example's ``n`` samples."""
    if isinstance(target, list):
        return [t for t in target for _ in range(n)]
    if isinstance(target, torch.Tensor) and target.numel() > 1:
        return target.repeat_interleave(n, dim=0)
    return target


def _map(fn: Callable[[torch.Tensor], torch.Tensor], values: Any) -> Any:
    """``fn`` on every tensor of a tensor, tuple or list of them, keeping the form."""
    if isinstance(values, torch.Tensor):
        return fn(values)
    return type(values)(_map(fn, v) for v in values)


def _first(values: Any) -> torch.Tensor:
    return values if isinstance(values, torch.Tensor) else _first(values[0])
