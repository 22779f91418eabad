"""The public entry point: validate, set up the path, integrate, and report completeness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from integrad.core import noise as noise_mod
from integrad.core.adaptive import FIRST_EVALS, integrate_adaptive
from integrad.core.batching import chunk_rows
from integrad.core.integrand import Integrand, Point, root_module
from integrad.core.layers import LayerTaps
from integrad.core.model_state import inference_state
from integrad.core.noise import Noise
from integrad.core.path import LayerSpec, build_points, first_call, layer_positions
from integrad.core.rules import rule_points
from integrad.core.structure import check_finite, flatten, full_baseline, per_input
from integrad.errors import InputError, ModelError, integer_input_message
from integrad.results import Attribution
from integrad.targets import TargetSpec, resolve_target, select_output

#: Default accuracy of ``method="adaptive"``: relative L2 error of each example's attributions.
DEFAULT_TOL = 1e-3
#: Default cap on gradient evaluations per example for ``method="adaptive"``.
DEFAULT_MAX_EVALS = 2000


def attribute(
    forward: Callable[..., Any],
    inputs: Any,
    *,
    baselines: Any = None,
    target: TargetSpec = None,
    method: str = "gausslegendre",
    n_steps: int = 50,
    layer: LayerSpec = None,
    batch_size: int | None = None,
    forward_kwargs: Mapping[str, Any] | None = None,
    score: str = "logit",
    layer_baselines: Any = None,
    tol: float = DEFAULT_TOL,
    max_evals: int = DEFAULT_MAX_EVALS,
    noise: Noise | None = None,
    memory_budget: int | None = None,
) -> Attribution:
    """Integrated Gradients of ``forward`` at ``inputs``.

    Args:
        forward: A torch module or function. It may return a tensor, a tuple whose first item
            is the output, or a Hugging Face ``ModelOutput`` (``.logits`` is used).
        inputs: A tensor, a tuple of tensors (passed positionally) or a dict (passed as
            keywords), each with a leading batch dimension.
        baselines: None (zeros), a number, a tensor broadcastable to the input, or one per
            input in the structure of ``inputs``. With ``layer=`` they are input-space
            baselines (token ids, say) whose layer activations are recorded.
        target: None for one scalar output per example, an int, one int per example,
            ``"predicted"`` (argmax at the input), a (batch, K) table of indices or a callable
            returning (batch, K) scalars for K targets sharing every forward pass, or a
            callable from the output to one scalar per example (see :mod:`integrad.targets`).
        method: ``"adaptive"`` (nested Clenshaw-Curtis to ``tol``) or a fixed rule from
            :func:`integrad.list_rules`.
        n_steps: Points on the path per example, for fixed rules.
        layer: Attribute to this module's output instead of the inputs; or a dict from input
            key (name or position) to module, to attribute those inputs at their layers and
            the other (float) inputs directly.
        batch_size: Most rows (steps x examples) per forward/backward. None picks the most
            that keep the activations under ``memory_budget``.
        forward_kwargs: Extra keyword arguments for ``forward`` (an attention mask, say), not
            attributed; tensors whose first dimension is the batch are repeated per row.
        score: ``"logit"`` (the output itself), ``"probability"`` or ``"log_prob"``.
        layer_baselines: Baselines given directly in the layer's output space (zero
            embeddings, say), instead of recorded from ``baselines``.
        tol: For ``method="adaptive"``: the relative L2 error allowed in each example's
            attributions.
        max_evals: For ``method="adaptive"``: most gradient evaluations per example; a
            warning says when it stops an example before ``tol``.
        noise: Average over noisy copies of the inputs (:class:`integrad.Noise`); the result
            then carries the per-feature standard deviation across samples in ``std``.
        memory_budget: Bytes of activations per chunk when ``batch_size`` is None
            (default :data:`integrad.core.batching.DEFAULT_MEMORY_BUDGET`).

    Returns:
        An :class:`~integrad.results.Attribution`; its ``delta`` is the completeness error.

    Example:
        >>> import torch, integrad
        >>> w = torch.tensor([1.0, 2.0])
        >>> res = integrad.attribute(lambda x: x @ w, torch.tensor([[3.0, 4.0]]))
        >>> res.attributions
        tensor([[3., 8.]])
    """
    if not callable(forward):
        raise ModelError(
            f"forward must be a torch module or function; got a non-callable "
            f"{type(forward).__name__}. IG needs gradients, so models from scikit-learn or "
            "other frameworks cannot be attributed: use a torch model."
        )
    adaptive = method == "adaptive"
    if not adaptive:
        alphas, weights = rule_points(method, n_steps)
    flat, structure = flatten(inputs)
    layers = layer_positions(layer, structure)
    given = per_input(baselines, structure, "baselines")
    bases = [full_baseline(b, x, k) for b, x, k in zip(given, flat, structure.keys, strict=True)]
    for x, b, key in zip(flat, bases, structure.keys, strict=True):
        check_finite(x, f"input {key!r}")
        check_finite(b, f"baseline for {key!r}")
        attributed_directly = layer is None or (isinstance(layer, Mapping) and key not in layers)
        if attributed_directly and not x.is_floating_point():
            raise InputError(integer_input_message(repr(key), x.dtype))
    kwargs = dict(forward_kwargs or {})
    taps = LayerTaps(list(layers.values()))
    batch, device = flat[0].shape[0], flat[0].device

    with inference_state(root_module(forward)), taps.installed():
        taps.recording()
        with torch.no_grad():
            out_x = select_output(first_call(forward, structure, flat, kwargs))
        if taps.layers:
            taps.check_all_called()
        resolved = chosen = resolve_target(target, out_x, score)
        points = build_points(
            forward, structure, flat, bases, kwargs, layers, taps, layer_baselines
        )
        if noise is not None:
            points, flat, kwargs, resolved = noise_mod.expand(noise, points, flat, kwargs, resolved)
        integrand = Integrand(forward, flat, structure, points, taps, kwargs, resolved)
        n = flat[0].shape[0]  # examples, noisy copies included
        examples = torch.arange(n, device=device)
        rows = n * (FIRST_EVALS if adaptive else n_steps)
        chunk = chunk_rows(integrand, rows, batch_size, memory_budget)
        f_base = integrand.values(examples, torch.zeros(n, device=device), chunk)
        if noise is None:
            f_x = resolved(out_x, examples).detach()
        else:  # the noisy inputs' own outputs
            f_x = integrand.values(examples, torch.ones(n, device=device), chunk)
        acc_dtype = torch.float64 if device.type in ("cpu", "cuda") else torch.float32
        if adaptive:
            deltas = [p.delta for p in points]
            result = integrate_adaptive(integrand, deltas, tol, max_evals, chunk, acc_dtype)
            attributions, n_evals, error = (
                result.attributions,
                result.n_evals,
                result.error_estimate,
            )
        else:
            attributions = _fixed(integrand, points, alphas, weights, n, chunk, acc_dtype)
            n_evals, error = torch.full((n,), n_steps, dtype=torch.long), None

    # (examples, K) completeness error per target
    total = sum(a.reshape(*a.shape[:2], -1).sum(2) for a in attributions)
    delta = total - (f_x.to(acc_dtype) - f_base.to(acc_dtype))
    std = samples = None
    if noise is not None:
        # (batch, n_samples, K, *shape): each noisy copy's own attributions
        samples = [a.reshape(batch, noise.n_samples, *a.shape[1:]) for a in attributions]
        pairs = [noise_mod.aggregate(noise, a) for a in attributions]
        attributions, std = [p[0] for p in pairs], [p[1] for p in pairs]
        delta, f_x, f_base = (noise_mod.mean_over_samples(noise, v) for v in (delta, f_x, f_base))
        n_evals = n_evals.reshape(batch, -1).sum(1)
        error = None if error is None else error.reshape(batch, -1).amax(1)
    out_dtype = points[0].start.dtype
    single = isinstance(layer, nn.Module)

    def finish(values: list[torch.Tensor], k_dim: int = 1) -> Any:
        if not resolved.multi:  # drop the K dimension of single-target calls
            values = [v.squeeze(k_dim) for v in values]
        values = [v.to(out_dtype) for v in values]
        return values[0] if single else structure.unflatten(values)

    return Attribution(
        attributions=finish(attributions),
        delta=resolved.squeeze(delta.to(out_dtype)),
        n_evals=n_evals.cpu(),
        output=resolved.squeeze(f_x),
        baseline_output=resolved.squeeze(f_base),
        target=None if chosen.index is None else chosen.squeeze(chosen.index),
        method=method,
        n_steps=None if adaptive else n_steps,
        score=score,
        error_estimate=error,
        std=None if std is None else finish(std),
        samples=None if samples is None else finish(samples, k_dim=2),
    )


def _fixed(
    integrand: Integrand,
    points: list[Point],
    alphas: Any,
    weights: Any,
    n: int,
    chunk: int,
    dtype: torch.dtype,
) -> list[torch.Tensor]:
    """Attributions (examples, K, *shape) per point with the same rule for every example."""
    device = points[0].start.device
    examples = torch.arange(n, device=device)
    # Rows are step-major: all examples at alpha_0, then all at alpha_1, ...
    row_example = examples.repeat(len(alphas))
    row_alpha = torch.as_tensor(alphas, device=device).repeat_interleave(n)
    row_weight = torch.as_tensor(weights, device=device).repeat_interleave(n)[:, None]
    sums = integrand.weighted_gradient_sums(
        row_example, row_alpha, row_weight, row_example, n, chunk, dtype
    )
    return [s[:, 0] * p.delta.to(dtype).unsqueeze(1) for s, p in zip(sums, points, strict=True)]
