"""The public entry point: validate, set up the path, integrate, and report completeness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from integrad.core.batching import chunk_rows
from integrad.core.integrand import Integrand, Point, root_module
from integrad.core.layers import LayerTaps
from integrad.core.model_state import inference_state
from integrad.core.rules import rule_points
from integrad.core.structure import Structure, check_finite, flatten, full_baseline, per_input
from integrad.errors import (
    InputError,
    IntegradError,
    LayerError,
    ModelError,
    integer_input_message,
)
from integrad.results import Attribution
from integrad.targets import TargetSpec, resolve_target, select_output

LayerSpec = nn.Module | Mapping[Any, nn.Module] | None


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
            ``"predicted"`` (argmax at the input), or a callable from the output to one
            scalar per example.
        method: An integration rule from :func:`integrad.list_rules`.
        n_steps: Points on the path per example.
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
    flat, structure = flatten(inputs)
    batch = flat[0].shape[0]
    layers = _layer_positions(layer, structure)
    bases = [
        full_baseline(b, x, key)
        for b, x, key in zip(
            per_input(baselines, structure, "baselines"), flat, structure.keys, strict=True
        )
    ]
    for x, b, key in zip(flat, bases, structure.keys, strict=True):
        check_finite(x, f"input {key!r}")
        check_finite(b, f"baseline for {key!r}")
        attributed_directly = layer is None or (isinstance(layer, Mapping) and key not in layers)
        if attributed_directly and not x.is_floating_point():
            raise InputError(integer_input_message(repr(key), x.dtype))
    alphas, weights = rule_points(method, n_steps)
    kwargs = dict(forward_kwargs or {})
    taps = LayerTaps(list(layers.values()))
    device = flat[0].device

    with inference_state(root_module(forward)), taps.installed():
        taps.recording()
        with torch.no_grad():
            out_x = select_output(_call(forward, structure, flat, kwargs))
        if taps.layers:
            taps.check_all_called()
        resolved = resolve_target(target, out_x, score)
        points = _points(forward, structure, flat, bases, kwargs, layers, taps, layer_baselines)
        integrand = Integrand(forward, flat, structure, points, taps, kwargs, resolved)
        examples = torch.arange(batch, device=device)
        f_x = resolved(out_x, examples).detach()
        chunk = chunk_rows(integrand, n_steps * batch, batch_size, memory_budget)
        f_base = integrand.values(examples, torch.zeros(batch, device=device), chunk)

        # Rows are step-major: all examples at alpha_0, then all at alpha_1, ...
        row_example = examples.repeat(n_steps)
        row_alpha = torch.as_tensor(alphas, device=device).repeat_interleave(batch)
        row_weight = torch.as_tensor(weights, device=device).repeat_interleave(batch)[:, None]
        acc_dtype = torch.float64 if device.type in ("cpu", "cuda") else torch.float32
        sums = integrand.weighted_gradient_sums(
            row_example, row_alpha, row_weight, row_example, batch, chunk, acc_dtype
        )

    attributions = [s[:, 0] * p.delta.to(acc_dtype) for s, p in zip(sums, points, strict=True)]
    total = sum(a.reshape(batch, -1).sum(1) for a in attributions)
    delta = total - (f_x.to(acc_dtype) - f_base.to(acc_dtype))
    out_dtype = points[0].start.dtype
    values = [a.to(out_dtype) for a in attributions]
    return Attribution(
        attributions=values[0] if isinstance(layer, nn.Module) else structure.unflatten(values),
        delta=delta.to(out_dtype),
        n_evals=torch.full((batch,), n_steps, dtype=torch.long),
        output=f_x,
        baseline_output=f_base,
        target=resolved.index,
        method=method,
        n_steps=n_steps,
        score=score,
    )


def _call(forward: Callable[..., Any], structure: Structure, values: list, kwargs: dict) -> Any:
    """The first forward call, where a model that does not accept the inputs is reported."""
    try:
        return structure.call(forward, values, kwargs)
    except IntegradError:
        raise
    except (TypeError, ValueError, RuntimeError, IndexError) as err:
        raise ModelError(
            f"calling the model on the inputs failed: {type(err).__name__}: {err}. Check that "
            "the inputs (a tensor, a tuple passed positionally, or a dict passed as keywords) "
            "and forward_kwargs match the model's forward signature."
        ) from err


def _layer_positions(layer: LayerSpec, structure: Structure) -> dict[Any, nn.Module]:
    """Map input key -> layer; a single module is keyed by None (it replaces all inputs)."""
    if layer is None:
        return {}
    if isinstance(layer, nn.Module):
        return {None: layer}
    if isinstance(layer, Mapping):
        unknown = [k for k in layer if k not in structure.keys]
        if unknown:
            raise LayerError(
                f"layer names {unknown}, which are not among the inputs {list(structure.keys)}"
            )
        if len({id(m) for m in layer.values()}) != len(layer):
            raise LayerError("each input needs its own layer; the same module appears twice")
        return dict(layer)
    raise LayerError(
        f"layer must be a torch module or a dict from input name to module; got "
        f"{type(layer).__name__}"
    )


def _points(
    forward: Callable[..., Any],
    structure: Structure,
    flat: list[torch.Tensor],
    bases: list[torch.Tensor],
    kwargs: dict[str, Any],
    layers: dict[Any, nn.Module],
    taps: LayerTaps,
    layer_baselines: Any,
) -> list[Point]:
    """The attributed tensors with their baselines, in the order results are reported."""
    acts_x = list(taps.recorded)
    if layers:
        acts_base = _layer_baselines(
            forward, structure, bases, kwargs, layers, taps, acts_x, layer_baselines
        )
    if None in layers:
        return [Point(None, 0, acts_base[0], acts_x[0] - acts_base[0])]
    keys = list(layers)
    points = []
    for position, key in enumerate(structure.keys):
        if key in layers:
            i = keys.index(key)
            points.append(Point(None, i, acts_base[i], acts_x[i] - acts_base[i]))
        else:
            points.append(Point(position, None, bases[position], flat[position] - bases[position]))
    return points


def _layer_baselines(
    forward: Callable[..., Any],
    structure: Structure,
    bases: list[torch.Tensor],
    kwargs: dict[str, Any],
    layers: dict[Any, nn.Module],
    taps: LayerTaps,
    acts_x: list[torch.Tensor],
    layer_baselines: Any,
) -> list[torch.Tensor]:
    """Layer activations at the baseline: given directly, or recorded on the baseline inputs."""
    if layer_baselines is not None:
        given = (
            [layer_baselines.get(k) for k in layers]
            if isinstance(layer_baselines, Mapping)
            else [layer_baselines] * len(layers)
        )
        return [
            full_baseline(b, a, f"layer {k!r}")
            for b, a, k in zip(given, acts_x, layers, strict=True)
        ]
    taps.recording()
    with torch.no_grad():
        structure.call(forward, bases, kwargs)
    for act, base_act, key in zip(acts_x, taps.recorded, layers, strict=True):
        if base_act is None or base_act.shape != act.shape:
            got = None if base_act is None else tuple(base_act.shape)
            raise LayerError(
                f"the layer for {key!r} gave shape {got} at the baseline but "
                f"{tuple(act.shape)} at the input; baselines must keep the "
                "input's shape (same sequence length for token ids)"
            )
    return [a.detach() for a in taps.recorded]  # type: ignore[union-attr]
