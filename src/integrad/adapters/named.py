"""Attribute a model over named inputs, each at its input or at its own layer, in one pass.

This is what the image, tabular and multimodal explain functions share:

- inputs by name, with integer inputs (token ids, categories) attributed at a layer: one
  module (an ``nn.Embedding`` over all positions) or one module per column (a list of
  per-column embeddings, each called once per forward);
- baselines in input space (pad ids, a mean row) or directly in a layer's output space
  (zero or mean embeddings);
- several baselines averaged, expected-gradients style, by repeating each example once per
  baseline in a single batched :func:`integrad.attribute` call;
- every attribution reduced back to the input's own shape (one score per token, number or
  category), so completeness can be checked across all inputs together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from integrad.adapters.outputs import check_one_target, forward_output, given_target, model_module
from integrad.core.attribute import attribute
from integrad.core.model_state import inference_state
from integrad.errors import BaselineError, LayerError

LayerMap = Mapping[str, nn.Module | Sequence[nn.Module]]


@dataclass(frozen=True)
class BaselineSet:
    """One baseline for every input: input-space values and layer-space activations.

    Attributes:
        inputs: Input-space baselines by name, each broadcastable to the input; an input
            with a layer is run through the model and its layer output recorded. Missing
            inputs get zeros.
        layers: Activation-space baselines by name (one tensor, or one per column for a
            list of layers); they win over ``inputs``. Layered inputs with neither get zero
            activations.
    """

    inputs: Mapping[str, torch.Tensor | float | None]
    layers: Mapping[str, Any]


@dataclass(frozen=True)
class NamedScores:
    """Attributions reduced to each input's shape, averaged over the baseline sets.

    Attributes:
        scores: Per input, (N, *input.shape[1:]).
        std: Per input, the noise-averaging standard deviation of the reduced scores (each
            noisy sample reduced, then the spread across samples), or None without noise.
        spread: Per input, the standard deviation across baseline sets, or None for one set.
        per_set: Per input, the scores of each baseline set, (K, N, *input.shape[1:]).
        output: F(x), (N,).
        baseline_output: F(x') averaged over the baseline sets, (N,).
        delta: Completeness error of the averaged attributions, (N,).
        n_evals: Gradient evaluations per example over all sets, (N,).
        target: The class index per example, or None.
    """

    scores: dict[str, torch.Tensor]
    std: dict[str, torch.Tensor] | None
    spread: dict[str, torch.Tensor] | None
    per_set: dict[str, torch.Tensor]
    output: torch.Tensor
    baseline_output: torch.Tensor
    delta: torch.Tensor
    n_evals: torch.Tensor
    target: torch.Tensor | None
    method: str
    n_steps: int | None
    score: str
    error_estimate: torch.Tensor | None


class _NamedCall(nn.Module):
    """Calls the model from keyword rows, restacking per-column inputs split for their layers."""

    def __init__(
        self, model: Callable[..., Any], keys: Sequence[str], splits: dict[str, int], positional
    ) -> None:
        super().__init__()
        self.model = model
        self.keys = list(keys)
        self.splits = splits
        self.positional = positional

    def forward(self, **kw: Any) -> Any:
        values = {}
        for key in self.keys:
            if key in self.splits:  # (rows,) per column -> (rows, n_columns)
                values[key] = torch.stack(
                    [kw.pop(column_key(key, i)) for i in range(self.splits[key])], 1
                )
            else:
                values[key] = kw.pop(key)
        if self.positional:
            return self.model(*values.values(), **kw)
        return self.model(**values, **kw)


def column_key(key: str, column: int) -> str:
    """The name of one column of a split input, as the engine passes it."""
    return f"{key}[{column}]"


def attribute_named(
    model: Callable[..., Any],
    inputs: Mapping[str, torch.Tensor],
    baseline_sets: Sequence[BaselineSet],
    *,
    layer: LayerMap | None = None,
    target: Any = None,
    forward_kwargs: Mapping[str, Any] | None = None,
    positional: bool = False,
    score: str = "logit",
    ig_options: Mapping[str, Any] | None = None,
) -> NamedScores:
    """Integrated Gradients over named inputs, averaged over several baseline sets.

    Args:
        model: A torch module or function taking the inputs as keywords (or positionally in
            the order given, with ``positional=True``).
        inputs: Named tensors with a shared batch dimension N.
        baseline_sets: K baseline sets; the attributions are averaged over them.
        layer: Name -> module, or -> list of modules (one per column of a 2-D input).
        target: Class indices (N,), a callable, or None (scalar output).
        forward_kwargs: Extra, non-attributed keyword arguments (an attention mask).
        positional: Call ``model(*inputs.values())`` instead of keywords.
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
        ig_options: Passed to :func:`integrad.attribute` (method, n_steps, noise, tol...).

    Example:
        >>> f = lambda a, b: (a * b).sum(1)
        >>> x = {"a": torch.ones(1, 2), "b": torch.full((1, 2), 2.0)}
        >>> attribute_named(f, x, [BaselineSet({}, {})]).scores["a"]
        tensor([[1., 1.]])
    """
    layers = dict(layer or {})
    splits = {key: len(m) for key, m in layers.items() if not isinstance(m, nn.Module)}
    modules = {key: list(m) if key in splits else [m] for key, m in layers.items()}
    with inference_state(model_module(model)):
        return _attribute_named(
            model,
            inputs,
            baseline_sets,
            layers,
            splits,
            modules,
            target,
            forward_kwargs,
            positional,
            score,
            dict(ig_options or {}),
        )


def _attribute_named(
    model: Callable[..., Any],
    inputs: Mapping[str, torch.Tensor],
    baseline_sets: Sequence[BaselineSet],
    layers: dict[str, Any],
    splits: dict[str, int],
    modules: dict[str, list[nn.Module]],
    target: Any,
    forward_kwargs: Mapping[str, Any] | None,
    positional: bool,
    score: str,
    options: dict[str, Any],
) -> NamedScores:
    keys = list(inputs)
    n, k = next(iter(inputs.values())).shape[0], len(baseline_sets)
    _check_layers(inputs, splits)
    flat_modules = [m for key in layers for m in modules[key]]
    _, acts_x = forward_output(model, inputs, forward_kwargs, positional, flat_modules)
    _check_positions(inputs, layers, splits, acts_x)

    # Activation baselines for every layered input: (K * N, *act) per module, set-major.
    act_bases = _layer_baseline_rows(
        model, inputs, baseline_sets, layers, modules, acts_x, forward_kwargs, positional
    )
    core_inputs, core_layer, core_bases, core_layer_bases = {}, {}, {}, {}
    position = 0
    for key in keys:
        x_rep = inputs[key].repeat(k, *[1] * (inputs[key].dim() - 1))  # (K * N, ...)
        if key in layers:
            for i, module in enumerate(modules[key]):
                name = column_key(key, i) if key in splits else key
                core_inputs[name] = x_rep[:, i] if key in splits else x_rep
                core_layer[name] = module
                core_layer_bases[name] = act_bases[position]
                position += 1
        else:
            core_inputs[key] = x_rep
            core_bases[key] = torch.cat(
                [_input_baseline(s.inputs.get(key), inputs[key]) for s in baseline_sets]
            )
    kwargs = {key: _repeat_rows(v, n, k) for key, v in (forward_kwargs or {}).items()}
    rep_target = target.repeat(k) if isinstance(target, torch.Tensor) else target
    result = attribute(
        _NamedCall(model, keys, splits, positional),
        core_inputs,
        baselines=core_bases,
        target=rep_target,
        layer=core_layer or None,
        layer_baselines=core_layer_bases or None,
        forward_kwargs=kwargs,
        score=score,
        **options,
    )
    check_one_target(result.delta)
    per_set = {
        key: v.view(k, n, *v.shape[1:])
        for key, v in _reduce(result.attributions, inputs, splits).items()
    }
    noise_std = None
    if result.samples is not None:  # each noisy sample reduced on its own, then the spread
        n_samples = next(iter(result.samples.values())).shape[1]
        reduced = [
            _reduce({key: v[:, i] for key, v in result.samples.items()}, inputs, splits)
            for i in range(n_samples)
        ]
        noise_std = {
            key: torch.stack([r[key] for r in reduced], 1).std(1, unbiased=False)
            for key in reduced[0]
        }
    return NamedScores(
        scores={key: v.mean(0) for key, v in per_set.items()},
        std=None
        if noise_std is None
        else {key: v.view(k, n, *v.shape[1:]).mean(0) for key, v in noise_std.items()},
        spread=None if k == 1 else {key: v.std(0, unbiased=False) for key, v in per_set.items()},
        per_set=per_set,
        output=result.output[:n],
        baseline_output=result.baseline_output.view(k, n).mean(0),
        delta=result.delta.view(k, n).mean(0),
        n_evals=result.n_evals.view(k, n).sum(0),
        target=given_target(target, result.target, n),
        method=result.method,
        n_steps=result.n_steps,
        score=result.score,
        error_estimate=None
        if result.error_estimate is None
        else result.error_estimate.view(k, n).max(0).values,
    )


def _check_layers(inputs: Mapping[str, torch.Tensor], splits: dict[str, int]) -> None:
    """A list of layers needs a 2-D input with one column per layer."""
    for key, count in splits.items():
        x = inputs[key]
        if x.dim() != 2 or x.shape[1] != count:
            raise LayerError(
                f"layer for {key!r} is a list of {count} modules, one per column, but the input "
                f"has shape {tuple(x.shape)}; a list needs a (N, {count}) input whose column j "
                "goes through module j"
            )


def _check_positions(
    inputs: Mapping[str, torch.Tensor],
    layers: dict[str, Any],
    splits: dict[str, int],
    acts_x: list[torch.Tensor],
) -> None:
    """A layer's output must start with its input's shape, so scores map back to positions."""
    position = 0
    for key in layers:
        x = inputs[key]
        if key in splits:
            position += splits[key]
            continue
        act = acts_x[position]
        if act.shape[: x.dim()] != x.shape:
            raise LayerError(
                f"the layer for {key!r} outputs shape {tuple(act.shape)}, which does not start "
                f"with the input's shape {tuple(x.shape)}, so its scores cannot be mapped back "
                "to positions; attribute at a layer that keeps one row per input position (an "
                "nn.Embedding rather than an nn.EmbeddingBag or a pooled output)"
            )
        position += 1


def _input_baseline(value: Any, x: torch.Tensor) -> torch.Tensor:
    """One set's input-space baseline as (N, ...) rows; the core checks shapes and values."""
    if value is None:
        return torch.zeros_like(x)
    if isinstance(value, (int, float)):
        return torch.full_like(x, float(value))
    try:
        return value.to(device=x.device, dtype=x.dtype).expand_as(x)
    except RuntimeError as err:
        raise BaselineError(
            f"a baseline has shape {tuple(value.shape)}, which does not broadcast to the input's "
            f"shape {tuple(x.shape)}; give one row per example or one for all"
        ) from err


def _layer_baseline_rows(
    model: Callable[..., Any],
    inputs: Mapping[str, torch.Tensor],
    sets: Sequence[BaselineSet],
    layers: dict[str, Any],
    modules: dict[str, list[nn.Module]],
    acts_x: list[torch.Tensor],
    forward_kwargs: Mapping[str, Any] | None,
    positional: bool,
) -> list[torch.Tensor]:
    """Per layered module, its baseline activations for all sets stacked: (K * N, *act)."""
    n, k = next(iter(inputs.values())).shape[0], len(sets)
    flat = [m for key in layers for m in modules[key]]
    # Sets that give input-space baselines for a layered input are run through the model
    # once, all together: (K * N, ...) rows, the inputs elsewhere.
    recorded: list[torch.Tensor] | None = None
    if any(key in s.inputs and key not in s.layers for s in sets for key in layers):
        rows = {
            key: torch.cat(
                [
                    _input_baseline(s.inputs.get(key), x)
                    if key in layers and s.inputs.get(key) is not None
                    else x
                    for s in sets
                ]
            )
            for key, x in inputs.items()
        }
        kwargs = {key: _repeat_rows(v, n, k) for key, v in (forward_kwargs or {}).items()}
        _, recorded = forward_output(model, rows, kwargs, positional, flat)
    out: list[torch.Tensor] = []
    position = 0
    for key in layers:
        for i, _ in enumerate(modules[key]):
            act = acts_x[position]
            parts = []
            for s_index, s in enumerate(sets):
                given = s.layers.get(key)
                if given is not None:
                    given = given[i] if isinstance(given, (list, tuple)) else given
                    parts.append(_input_baseline(given, act))
                elif s.inputs.get(key) is not None and recorded is not None:
                    parts.append(recorded[position][s_index * n : (s_index + 1) * n])
                else:
                    parts.append(torch.zeros_like(act))
                if parts[-1].shape != act.shape:
                    raise LayerError(
                        f"the layer for {key!r} gives shape {tuple(parts[-1].shape)} at the "
                        f"baseline but {tuple(act.shape)} at the input; baselines must keep "
                        "the input's shape (the same sequence length for token ids)"
                    )
            out.append(torch.cat(parts))
            position += 1
    return out


def _repeat_rows(value: Any, n: int, k: int) -> Any:
    """A forward keyword repeated for K sets, when its first dimension is the batch."""
    if k > 1 and isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == n:
        return value.repeat(k, *[1] * (value.dim() - 1))
    return value


def _reduce(
    attributions: Mapping[str, torch.Tensor],
    inputs: Mapping[str, torch.Tensor],
    splits: dict[str, int],
) -> dict[str, torch.Tensor]:
    """Each input's attributions summed over layer dimensions back to the input's shape."""
    out = {}
    for key, x in inputs.items():
        if key in splits:  # one layer per column: (rows, *act) each -> (rows, n_columns)
            parts = [attributions[column_key(key, i)] for i in range(splits[key])]
            out[key] = torch.stack([p.reshape(p.shape[0], -1).sum(1) for p in parts], 1)
            continue
        a = attributions[key]
        out[key] = a.reshape(*a.shape[: x.dim()], -1).sum(-1) if a.dim() > x.dim() else a
    return out
