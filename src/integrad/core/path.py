"""Setting up the straight-line path: which tensors are attributed, and their end points.

The attributed tensors (*points*) are the inputs given directly, and the parts of every
tapped layer (see :mod:`integrad.core.layers`). :class:`LayerPlan` reads the ``layer=``
argument, knows which inputs are attributed directly, and puts the per-point results back
into the shape the user asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from integrad.core.layers import LayerTaps
from integrad.core.structure import Call, Key, Structure, full_baseline
from integrad.errors import BaselineError, IntegradError, LayerError, ModelError

LayerSpec = nn.Module | Sequence[nn.Module] | Mapping[Any, nn.Module | Sequence[nn.Module]] | None


@dataclass(frozen=True)
class Point:
    """One attributed tensor: an input (``layer`` None) or one part of a layer's tensors.

    Attributes:
        position: Index of the input in the flat inputs (inputs only).
        layer: (tap, part) of a layer's tensor (layers only).
        start: The baseline, shape (batch, *shape).
        delta: Input minus baseline, shape (batch, *shape).
    """

    position: int | None
    layer: tuple[int, int] | None
    start: torch.Tensor
    delta: torch.Tensor


@dataclass(frozen=True)
class LayerPlan:
    """What ``layer=`` asks for.

    Attributes:
        kind: ``"none"`` (inputs only), ``"module"``, ``"list"`` or ``"dict"`` (input key ->
            module or list of modules; the other inputs are attributed directly).
        modules: The tapped modules, in order.
        by_key: For ``"dict"``: input key -> (its tap indices, whether a list was given).
        direct: Positions of the inputs attributed directly.
    """

    kind: str
    modules: tuple[nn.Module, ...]
    by_key: dict[Key, tuple[tuple[int, ...], bool]]
    direct: tuple[int, ...]

    def assemble(self, structure: Structure, per_point: list[Any], taps: LayerTaps) -> Any:
        """Put per-point values (in the order of :func:`build_points`) into the user's shape."""
        direct = dict(zip(self.direct, per_point[: len(self.direct)], strict=True))
        rest = iter(per_point[len(self.direct) :])
        per_tap = []
        for i, parts in enumerate(taps.recorded):
            values = [next(rest) for _ in parts or ()]
            per_tap.append(tuple(values) if taps.tuple_form[i] else values[0])
        if self.kind == "none":
            return structure.unflatten([direct[p] for p in range(len(structure.keys))])
        if self.kind == "module":
            return per_tap[0]
        if self.kind == "list":
            return per_tap
        values = []
        for position, key in enumerate(structure.keys):
            if key in self.by_key:
                indices, is_list = self.by_key[key]
                values.append([per_tap[i] for i in indices] if is_list else per_tap[indices[0]])
            else:
                values.append(direct[position])
        return structure.unflatten(values)


def plan_layers(layer: LayerSpec, structure: Structure) -> LayerPlan:
    """Read ``layer=`` against the inputs."""
    everything = tuple(range(len(structure.keys)))
    if layer is None:
        return LayerPlan("none", (), {}, everything)
    if isinstance(layer, nn.Module):
        return LayerPlan("module", (layer,), {}, ())
    if isinstance(layer, Mapping):
        unknown = [k for k in layer if k not in structure.keys]
        if unknown:
            raise LayerError(
                f"layer names {unknown}, which are not among the inputs {list(structure.keys)}"
            )
        modules: list[nn.Module] = []
        by_key: dict[Key, tuple[tuple[int, ...], bool]] = {}
        for key, value in layer.items():
            is_list = not isinstance(value, nn.Module)
            group = list(value) if is_list else [value]
            by_key[key] = (tuple(range(len(modules), len(modules) + len(group))), is_list)
            modules.extend(group)
        direct = tuple(p for p, k in enumerate(structure.keys) if k not in layer)
        return LayerPlan("dict", tuple(modules), by_key, direct)
    if isinstance(layer, Sequence) and not isinstance(layer, str):
        if not layer:
            raise LayerError("layer is an empty list; give at least one module")
        return LayerPlan("list", tuple(layer), {}, ())
    raise LayerError(
        f"layer must be a torch module, a list of modules, or a dict from input name to module; "
        f"got {type(layer).__name__}"
    )


def first_call(call: Call, values: list[torch.Tensor]) -> Any:
    """The first forward call, where a model that does not accept the inputs is reported."""
    try:
        return call(values)
    except IntegradError:
        raise
    except (TypeError, ValueError, RuntimeError, IndexError) as err:
        if "inference" in str(err).lower() and "tensor" in str(err).lower():
            raise IntegradError(
                f"the inputs or the model were created under torch.inference_mode() ({err}); "
                "IG needs tensors that can record gradients: create them outside "
                "inference_mode (torch.no_grad() is fine)"
            ) from err
        raise ModelError(
            f"calling the model on the inputs failed: {type(err).__name__}: {err}. Check that "
            "the inputs (a tensor, a tuple passed positionally, or a dict passed as keywords), "
            "forward_args and forward_kwargs match the model's forward signature."
        ) from err


def build_points(
    plan: LayerPlan,
    flat: list[torch.Tensor],
    bases: list[torch.Tensor],
    acts_x: list[list[torch.Tensor]],
    acts_base: list[list[torch.Tensor]],
) -> list[Point]:
    """The attributed tensors with their baselines: direct inputs first, then layer parts."""
    points = [Point(p, None, bases[p], flat[p] - bases[p]) for p in plan.direct]
    for i, (parts_x, parts_b) in enumerate(zip(acts_x, acts_base, strict=True)):
        for j, (x, b) in enumerate(zip(parts_x, parts_b, strict=True)):
            points.append(Point(None, (i, j), b, x - b))
    return points


def given_layer_baselines(
    plan: LayerPlan, layer_baseline: Any, acts_x: list[list[torch.Tensor]], taps: LayerTaps
) -> list[list[torch.Tensor] | None]:
    """Baselines given in the layers' own space, spread over the layers' parts and checked.

    ``layer_baseline`` follows the form of ``layer=``: for one module a tensor (a tuple for
    a layer with several tensors), for a list one such entry per module, for a dict one per
    key (a list for a key with several modules). A number or a single tensor applies to
    every part. Layers left out (None) get None: they are recorded from the input-space
    baseline.
    """
    n = len(plan.modules)
    if isinstance(layer_baseline, (int, float, torch.Tensor)):
        per_tap: list[Any] = [layer_baseline] * n
    elif plan.kind == "module":
        per_tap = [layer_baseline]
    elif plan.kind == "list" and isinstance(layer_baseline, Sequence):
        if len(layer_baseline) != n:
            raise BaselineError(
                f"layer_baseline has {len(layer_baseline)} entries for {n} layers; give one each"
            )
        per_tap = list(layer_baseline)
    elif plan.kind == "dict" and isinstance(layer_baseline, Mapping):
        per_tap = [None] * n
        for key, value in layer_baseline.items():
            if key not in plan.by_key:
                raise BaselineError(
                    f"layer_baseline names {key!r}, which has no layer; layers are given for "
                    f"{list(plan.by_key)}"
                )
            indices, is_list = plan.by_key[key]
            values = list(value) if is_list else [value]
            for i, v in zip(indices, values, strict=True):
                per_tap[i] = v
    else:
        raise BaselineError(
            "layer_baseline must follow the form of layer=: a tensor for one module, a list "
            "for a list of modules, a dict for a dict; or one number or tensor for all"
        )
    out: list[list[torch.Tensor] | None] = []
    for i, (given, parts) in enumerate(zip(per_tap, acts_x, strict=True)):
        if given is None:
            out.append(None)
            continue
        items = list(given) if isinstance(given, (tuple, list)) else [given] * len(parts)
        if len(items) != len(parts):
            raise BaselineError(
                f"layer {type(taps.layers[i]).__name__} has {len(parts)} tensors but its "
                f"layer_baseline gives {len(items)}"
            )
        name = f"layer {type(taps.layers[i]).__name__}"
        out.append([full_baseline(b, a, name) for b, a in zip(items, parts, strict=True)])
    return out


def check_recorded_baselines(
    acts_x: list[list[torch.Tensor]], acts_base: list[list[torch.Tensor]], taps: LayerTaps
) -> None:
    """Layer tensors recorded at the baseline must have the shapes recorded at the input."""
    for layer, parts_x, parts_b in zip(taps.layers, acts_x, acts_base, strict=True):
        got = [tuple(b.shape) for b in parts_b]
        want = [tuple(x.shape) for x in parts_x]
        if got != want:
            raise LayerError(
                f"layer {type(layer).__name__} gave shape(s) {got} at the baseline but {want} at "
                "the input; baselines must keep the input's shape (the same sequence length "
                "for token ids)"
            )
