"""Setting up the straight-line path: which tensors are attributed, and their end points."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from integrad.core.integrand import Point
from integrad.core.layers import LayerTaps
from integrad.core.structure import Structure, full_baseline
from integrad.errors import IntegradError, LayerError, ModelError

LayerSpec = nn.Module | Mapping[Any, nn.Module] | None


def first_call(
    forward: Callable[..., Any], structure: Structure, values: list, kwargs: dict
) -> Any:
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


def layer_positions(layer: LayerSpec, structure: Structure) -> dict[Any, nn.Module]:
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


def build_points(
    forward: Callable[..., Any],
    structure: Structure,
    flat: list[torch.Tensor],
    bases: list[torch.Tensor],
    kwargs: dict[str, Any],
    layers: dict[Any, nn.Module],
    taps: LayerTaps,
    layer_baselines: Any,
) -> list[Point]:
    """The attributed tensors with their baselines, in the order results are reported.

    ``taps.recorded`` must hold the layer outputs at the inputs (the first forward).
    """
    acts_x = list(taps.recorded)
    acts_base: list[torch.Tensor] = []
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
