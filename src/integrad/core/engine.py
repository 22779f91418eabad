"""The public entry point: validate, set up the path, integrate, and report completeness."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from integrad.core import noise as noise_mod
from integrad.core.adaptive import integrate_adaptive
from integrad.core.batching import plan_chunks
from integrad.core.foreign import check_model
from integrad.core.integrand import Integrand
from integrad.core.layers import LayerTaps
from integrad.core.model_state import check_grad_mode, inference_state, modules_behind
from integrad.core.path import (
    LayerPlan,
    LayerSpec,
    Point,
    build_points,
    check_recorded_baselines,
    first_call,
    given_layer_baselines,
    plan_layers,
)
from integrad.core.rules import rule_points
from integrad.core.structure import Call, check_finite, flatten, full_baseline, per_input
from integrad.errors import (
    InputError,
    IntegradWarning,
    ModelError,
    TargetError,
    integer_input_message,
)
from integrad.options import Options, renamed
from integrad.results.attribution import Attribution
from integrad.targets import TargetSpec, resolve_target, select_output


@dataclass(frozen=True)
class Question:
    """What :func:`attribute` is asked, apart from the model, the inputs and the settings;
    each field is the argument of the same name (see :func:`attribute`)."""

    baseline: Any = None
    target: TargetSpec = None
    layer: LayerSpec = None
    layer_baseline: Any = None
    attribute_to_layer_input: bool = False
    multiply_by_inputs: bool = True
    forward_args: tuple[Any, ...] = ()
    forward_kwargs: dict[str, Any] = field(default_factory=dict)
    labels: Sequence[str] | None = None


def attribute(
    model: Callable[..., Any] | None = None,
    inputs: Any = None,
    *,
    baseline: Any = None,
    target: TargetSpec = None,
    layer: LayerSpec = None,
    layer_baseline: Any = None,
    attribute_to_layer_input: bool = False,
    multiply_by_inputs: bool = True,
    forward_args: Sequence[Any] = (),
    forward_kwargs: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
    **settings: Any,
) -> Attribution:
    """Integrated Gradients of ``model`` at ``inputs``.

    Args:
        model: A torch module or function. It may return a tensor, a tuple whose first item
            is the output, or a Hugging Face ``ModelOutput`` (``.logits`` is used).
        inputs: A tensor, a tuple of tensors (passed positionally) or a dict (passed as
            keywords), each with a leading batch dimension.
        baseline: None (zeros), a number, a tensor broadcastable to the input, or one per
            input in the structure of ``inputs``. With ``layer=`` they are input-space
            baselines (token ids, say) whose layer tensors are recorded.
        target: What is attributed; see :mod:`integrad.targets`. None explains the model's
            prediction (its highest output per example).
        layer: Attribute to a module's output instead of the inputs: one module, a list of
            modules (interpolated together), or a dict from input key (name or position)
            to a module or list of modules, attributing those inputs at their layers and
            the other (float) inputs directly.
        layer_baseline: Baselines given directly in the layers' space (zero embeddings, say),
            in the form of ``layer``, instead of recorded from ``baseline``.
        attribute_to_layer_input: Attribute to the layers' positional inputs instead of
            their outputs.
        multiply_by_inputs: False returns the path-integrated gradients without the
            (input - baseline) factor (``delta`` still checks the multiplied ones).
        forward_args: Extra positional arguments for ``model``, after the inputs; not
            attributed. Tensors whose first dimension is the batch are repeated per row.
        forward_kwargs: Extra keyword arguments for ``model`` (an attention mask, say), not
            attributed; repeated per row like ``forward_args``.
        labels: Names of the model's outputs, so ``target`` may name a class.
        **settings: Integration settings: ``method``, ``n_steps``, ``tol``, ``max_evals``,
            ``noise``, ``batch_size``, ``memory_budget``, ``score`` or ``options=``; see
            :class:`integrad.Options`. (``forward=``, ``baselines=`` and
            ``layer_baselines=`` are the deprecated spellings of three arguments.)

    Returns:
        An :class:`~integrad.results.Attribution`; its ``delta`` is the completeness error.

    Example:
        >>> import torch, integrad
        >>> w = torch.tensor([1.0, 2.0])
        >>> res = integrad.attribute(lambda x: x @ w, torch.tensor([[3.0, 4.0]]))
        >>> res.attributions
        tensor([[3., 8.]])
    """
    old = renamed(settings, RENAMED, "attribute")
    question = Question(
        baseline=old.get("baseline", baseline),
        target=target,
        layer=layer,
        layer_baseline=old.get("layer_baseline", layer_baseline),
        attribute_to_layer_input=attribute_to_layer_input,
        multiply_by_inputs=multiply_by_inputs,
        forward_args=tuple(forward_args),
        forward_kwargs=dict(forward_kwargs or {}),
        labels=labels,
    )
    options = Options.from_settings(settings, function="attribute()")
    return run(old.get("model", model), inputs, options, question)


#: Keyword arguments of :func:`attribute` renamed in this release (kept for one release).
RENAMED = {"forward": "model", "baselines": "baseline", "layer_baselines": "layer_baseline"}


def run(
    model: Callable[..., Any] | None,
    inputs: Any,
    options: Options,
    question: Question,
    check_output: Callable[[Any, list[list[torch.Tensor]]], None] | None = None,
    several_targets: bool = True,
) -> Attribution:
    """:func:`attribute` with resolved options, for the front ends: ``check_output`` sees what
    the model returns at the input and the layers' tensors there, before anything else runs
    (front ends check the model's kind there), and ``several_targets=False`` refuses K
    targets per example (front ends whose results hold one score per feature)."""
    baseline, target, layer = question.baseline, question.target, question.layer
    forward_args, labels = question.forward_args, question.labels
    check_grad_mode()
    check_model(model)
    flat, structure = flatten(inputs)
    plan = plan_layers(layer, structure)
    given = per_input(baseline, structure, "baseline")
    bases = [full_baseline(b, x, k) for b, x, k in zip(given, flat, structure.keys, strict=True)]
    for position, (x, b, key) in enumerate(zip(flat, bases, structure.keys, strict=True)):
        check_finite(x, f"input {key!r}")
        check_finite(b, f"baseline for {key!r}")
        if position in plan.direct and not x.is_floating_point():
            raise InputError(integer_input_message(repr(key), x.dtype))
    kwargs = dict(question.forward_kwargs)
    modules = modules_behind(model)
    taps = LayerTaps(list(plan.modules), to_input=question.attribute_to_layer_input)

    with inference_state(modules), taps.installed():
        call = Call(model, structure, forward_args, kwargs)
        taps.recording()
        with torch.no_grad():
            raw = first_call(call, flat)
            if check_output is not None:
                check_output(raw, [list(parts or []) for parts in taps.recorded])
            out_x = select_output(raw)
            if not isinstance(model, nn.Module):
                taps.recording()
                _check_deterministic(call, flat, out_x)
        if taps.layers:
            taps.check_all_called()
        acts_x = [list(parts or []) for parts in taps.recorded]
        resolved = chosen = resolve_target(target, out_x, options.score, labels)
        if resolved.multi and not several_targets:
            raise TargetError(
                f"the target gives {resolved.n_targets} scores per example; this function "
                "explains one class per example. Explain each target separately, or call "
                "integrad.attribute directly for several targets in one pass"
            )
        acts_base = _layer_baselines(call, bases, plan, taps, acts_x, question.layer_baseline)
        points = build_points(plan, flat, bases, acts_x, acts_base)
        args = forward_args
        if options.noise is not None:
            points, flat, args, kwargs, resolved = noise_mod.expand(
                options.noise, points, flat, args, kwargs, resolved
            )
        integrand = Integrand(model, flat, structure, points, taps, args, kwargs, resolved)
        multiply_by_inputs = question.multiply_by_inputs
        attributions, deltas, n_evals, error, f_x, (f_base, base_output) = _integrate(
            integrand, modules, options, multiply_by_inputs, out_x, resolved
        )
        _warn_unused(integrand, structure, taps)

    acc_dtype = deltas[0].dtype
    # (examples, K) completeness error per target, always of the multiplied attributions
    total = sum(
        (a if multiply_by_inputs else a * d.unsqueeze(1)).reshape(*a.shape[:2], -1).sum(2)
        for a, d in zip(attributions, deltas, strict=True)
    )
    delta = total - (f_x.to(acc_dtype) - f_base.to(acc_dtype))
    std = samples = None
    batch = out_x.shape[0]
    noise = options.noise
    if noise is not None:
        # (batch, n_samples, K, *shape): each noisy copy's own attributions
        samples = [a.reshape(batch, noise.n_samples, *a.shape[1:]) for a in attributions]
        pairs = [noise_mod.aggregate(noise, a) for a in attributions]
        attributions, std = [p[0] for p in pairs], [p[1] for p in pairs]
        delta, f_x, f_base = (noise_mod.mean_over_samples(noise, v) for v in (delta, f_x, f_base))
        n_evals = n_evals.reshape(batch, -1).sum(1)
        error = None if error is None else error.reshape(batch, -1).amax(1)

    def finish(values: list[torch.Tensor], k_dim: int = 1) -> Any:
        if not resolved.multi:  # drop the K dimension of single-target calls
            values = [v.squeeze(k_dim) for v in values]
        values = [v.to(p.start.dtype) for v, p in zip(values, points, strict=True)]
        return plan.assemble(structure, values, taps)

    return Attribution(
        attributions=finish(attributions),
        delta=resolved.squeeze(delta),
        n_evals=n_evals.cpu(),
        output=resolved.squeeze(f_x.to(acc_dtype)),
        baseline_output=resolved.squeeze(f_base.to(acc_dtype)),
        error_estimate=error,
        options=options,
        target=None if chosen.index is None else chosen.squeeze(chosen.index),
        std=None if std is None else finish(std),
        samples=None if samples is None else finish(samples, k_dim=2),
        model_output=out_x,
        baseline_model_output=base_output[:: noise.n_samples] if noise else base_output,
        multiply_by_inputs=multiply_by_inputs,
    )


def _integrate(
    integrand: Integrand,
    modules: list[nn.Module],
    options: Options,
    multiply_by_inputs: bool,
    out_x: torch.Tensor,
    resolved: Any,
) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor, Any, torch.Tensor, tuple]:
    """Integrate every example, in groups that fit the memory budget.

    Returns the attributions (or, without ``multiply_by_inputs``, the integrated gradients)
    per point as (examples, K, *shape), the (input - baseline) per point, the evaluations
    and error estimates per example, and F at both ends of the path, (examples, K).
    """
    points: list[Point] = integrand.points
    n, device = integrand.batch, points[0].start.device
    adaptive = options.adaptive
    chunking = plan_chunks(integrand, modules, options)
    examples = torch.arange(n, device=device)
    f_base, base_output = integrand.outputs(examples, torch.zeros(n, device=device), chunking.rows)
    if options.noise is None:
        f_x = resolved(out_x, examples).detach()
    else:  # the noisy inputs' own outputs
        f_x = integrand.values(examples, torch.ones(n, device=device), chunking.rows)
    dtype = torch.float64 if device.type in ("cpu", "cuda") else torch.float32
    deltas = [p.delta.to(dtype) for p in points]
    parts: list[tuple[list[torch.Tensor], torch.Tensor, torch.Tensor | None]] = []
    for lo in range(0, n, chunking.group):
        group = examples[lo : lo + chunking.group]
        sub = integrand if group.shape[0] == n else integrand.subset(group)
        if adaptive:
            # In the model's dtype: the adaptive engine's round-off floor depends on it.
            scale = [
                p.delta[group] if multiply_by_inputs else torch.ones_like(p.delta[group])
                for p in points
            ]
            ends = (f_base[group], f_x[group])  # known already: two probes fewer
            result = integrate_adaptive(
                sub, scale, options.tol, options.max_evals, chunking.rows, dtype, ends
            )
            parts.append((result.attributions, result.n_evals, result.error_estimate))
        else:
            sums = _fixed(sub, options.method, options.n_steps, chunking.rows, dtype)  # type: ignore[arg-type]
            if multiply_by_inputs:
                sums = [s * d[group].unsqueeze(1) for s, d in zip(sums, deltas, strict=True)]
            evals = torch.full((group.shape[0],), options.n_steps, dtype=torch.long)  # type: ignore[arg-type]
            parts.append((sums, evals, None))
        if sub is not integrand:
            integrand.reached = [
                a or b for a, b in zip(integrand.reached, sub.reached, strict=True)
            ]
    attributions = [torch.cat([p[0][i] for p in parts]) for i in range(len(points))]
    n_evals = torch.cat([p[1].cpu() for p in parts])
    error = torch.cat([p[2] for p in parts]) if adaptive else None  # type: ignore[misc]
    return attributions, deltas, n_evals, error, f_x, (f_base, base_output)


def _fixed(
    integrand: Integrand, method: str, n_steps: int, chunk: int, dtype: torch.dtype
) -> list[torch.Tensor]:
    """Integrated gradients (examples, K, *shape) per point, one rule for every example."""
    alphas, weights = rule_points(method, n_steps)
    n, device = integrand.batch, integrand.points[0].start.device
    examples = torch.arange(n, device=device)
    # Rows are step-major: all examples at alpha_0, then all at alpha_1, ...
    row_example = examples.repeat(len(alphas))
    row_alpha = torch.tensor(alphas, device=device).repeat_interleave(n)
    row_weight = torch.tensor(weights, device=device).repeat_interleave(n)[:, None]
    sums = integrand.weighted_gradient_sums(
        row_example, row_alpha, row_weight, row_example, n, chunk, dtype
    )
    return [s[:, 0] for s in sums]


def _layer_baselines(
    call: Call,
    bases: list[torch.Tensor],
    plan: LayerPlan,
    taps: LayerTaps,
    acts_x: list[list[torch.Tensor]],
    layer_baseline: Any,
) -> list[list[torch.Tensor]]:
    """The layers' tensors at the baseline: given directly, or recorded on the baseline inputs
    (one forward, for the layers without a ``layer_baseline``)."""
    if not taps.layers:
        return []
    given = (
        [None] * len(taps.layers)
        if layer_baseline is None
        else given_layer_baselines(plan, layer_baseline, acts_x, taps)
    )
    if all(g is not None for g in given):
        return given  # type: ignore[return-value]
    taps.recording()
    with torch.no_grad():
        call(bases)
    recorded = [list(parts or []) for parts in taps.recorded]
    check_recorded_baselines(acts_x, recorded, taps)
    return [r if g is None else g for g, r in zip(given, recorded, strict=True)]


def _warn_unused(integrand: Integrand, structure: Any, taps: LayerTaps) -> None:
    """Say which attributed tensors no gradient reached: their attributions are zero."""
    for point in (p for p, reached in zip(integrand.points, integrand.reached, strict=True)
                  if not reached):  # fmt: skip
        if point.layer is None:
            what = f"input {structure.keys[point.position]!r}"
        else:
            what = f"layer {type(taps.layers[point.layer[0]]).__name__}"
        warnings.warn(
            f"{what} does not reach the model's output (the model does not use it, or another "
            "attributed layer replaces everything it feeds), so its attributions are zero",
            IntegradWarning,
            stacklevel=4,
        )


def _check_deterministic(call: Call, flat: list[torch.Tensor], first: torch.Tensor) -> None:
    """A plain function is run twice at the input: IG of a random function means nothing."""
    again = select_output(call(flat))
    if again.shape != first.shape or not torch.allclose(
        again, first, rtol=1e-5, atol=1e-6 * float(first.abs().max().clamp_min(1.0))
    ):
        raise ModelError(
            "the forward function gave different outputs for the same input on two calls, so "
            "its gradients are random and IG would explain noise. Pass the torch module itself "
            "(integrad puts it in eval mode for the call), or call model.eval() before "
            "wrapping it in a function; remove random operations (dropout in training mode, "
            "torch.rand) from the forward"
        )
