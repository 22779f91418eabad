"""The explain pipeline every front end shares: a batch of named inputs -> the engine -> scores
reduced back to each input's own shape.

A front end (text, image, tabular, multimodal, generation) loads its model, encodes what the
user has into a :class:`Batch` (the attributable tensors, which of them are read through a
layer such as an embedding, and what stays fixed), builds one or more :class:`BaselineSet`,
and calls :func:`attribute_batch`. That repeats the batch once per baseline set (averaging
over several baselines, expected-gradients style, in one engine call), runs
:func:`integrad.core.engine.run`, and sums every attribution back to its input's shape: one
score per token, pixel channel, number or category. What the front end does with those
scores (words, pixel maps, columns, modality shares) is its own reduce step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from integrad.core.engine import Question, run
from integrad.core.foreign import check_model
from integrad.core.layers import LayerTaps
from integrad.core.model_state import inference_state, modules_behind
from integrad.errors import BaselineError, InputError, LayerError, TargetError
from integrad.options import Options
from integrad.targets import TargetSpec


@dataclass(frozen=True)
class Batch:
    """What a front end hands the engine.

    Attributes:
        model: The torch module or function to call.
        inputs: Named tensors with a shared batch dimension N; float ones are attributed
            directly, those named in ``layer`` at their layer.
        layer: Input name -> the module whose output stands for it (an embedding), or a
            list of modules, one per column of a 2-D input.
        forward_kwargs: Further keyword arguments, held fixed (attention masks, positions).
        positional: Call ``model(*inputs.values())`` instead of ``model(**inputs)``.
        labels: Names of the model's outputs, for targets given by name.
    """

    model: Callable[..., Any]
    inputs: dict[str, torch.Tensor]
    layer: dict[str, nn.Module | list[nn.Module]] = field(default_factory=dict)
    forward_kwargs: dict[str, Any] = field(default_factory=dict)
    positional: bool = False
    labels: Sequence[str] | None = None

    def __post_init__(self) -> None:
        check_model(self.model)  # before front ends wrap it in their own calls

    @property
    def size(self) -> int:
        """N, the number of examples."""
        return next(iter(self.inputs.values())).shape[0]


@dataclass(frozen=True)
class BaselineSet:
    """One baseline for every input.

    Attributes:
        inputs: Input-space baselines by name, each broadcastable to its input (for an input
            read through a layer, the layer's output at these values is recorded). Missing
            inputs that are attributed directly get zeros.
        layers: Baselines in a layer's own space by input name (a tensor, or one per module
            for a list of layers); they win over ``inputs``.
    """

    inputs: Mapping[str, torch.Tensor | float | None] = field(default_factory=dict)
    layers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scores:
    """Attributions summed back to each input's shape, averaged over the baseline sets.

    With K targets per example (``multi``), a K dimension follows the batch dimension in
    ``scores``, ``per_set``, ``std`` and in ``output``, ``baseline_output``, ``delta``.

    Attributes:
        scores: Per input, (N, [K,] *input.shape[1:]) float64.
        per_set: Per input, each baseline set's scores, (S, N, [K,] ...).
        samples: With noise, per input, each noisy sample's scores, (N, n_samples, [K,] ...),
            so any sum of scores (a word, a column) gets its exact spread; else None.
        output: F(x), (N, [K]).
        baseline_output: F(x') averaged over the sets, (N, [K]).
        delta: Completeness error of the averaged scores, (N, [K]).
        n_evals: Gradient evaluations per example over all sets, (N,).
        error_estimate: Adaptive integration's estimate per example (worst set), or None.
        target: The flat output index attributed per example, or None for callables.
        model_output: The model's whole output at the inputs, (N, ...).
        baseline_model_output: Its whole output at each set's baseline, (S, N, ...).
        options: The resolved integration settings.
        multi: Several targets per example.
    """

    scores: dict[str, torch.Tensor]
    per_set: dict[str, torch.Tensor]
    samples: dict[str, torch.Tensor] | None
    output: torch.Tensor
    baseline_output: torch.Tensor
    delta: torch.Tensor
    n_evals: torch.Tensor
    error_estimate: torch.Tensor | None
    target: torch.Tensor | None
    model_output: torch.Tensor
    baseline_model_output: torch.Tensor
    options: Options
    multi: bool

    def batch_fields(self, labels: Sequence[str] | None) -> dict[str, Any]:
        """The fields a classifier's batch result shares (see
        :class:`~integrad.results.base.ClassifierBatch`), from these scores."""
        logits = self.model_output.reshape(self.output.shape[0], -1)
        return {
            **{k: getattr(self, k) for k in ("output", "baseline_output", "delta", "n_evals")},
            "error_estimate": self.error_estimate,
            "options": self.options,
            "target": self.target,
            "predicted": logits.argmax(1),
            "probabilities": logits.double().softmax(1) if logits.shape[1] > 1 else None,
            "labels": None if labels is None else [str(label) for label in labels],
        }

    def row_fields(self, row: int) -> dict[str, Any]:
        """The fields one input's explanation shares (see
        :class:`~integrad.results.base.Explanation`), as plain numbers."""
        return {**self.diagnostics(row), "options": self.options}

    def diagnostics(self, row: int, n_targets: int | None = None) -> dict[str, Any]:
        """One input's F(x), F(x'), delta (numbers; lists of the first ``n_targets`` with
        several targets), its evaluations and error estimate."""
        error = self.error_estimate

        def value(t: torch.Tensor) -> Any:
            return float(t[row]) if n_targets is None else t[row, :n_targets].tolist()

        return {
            "output": value(self.output),
            "baseline_output": value(self.baseline_output),
            "delta": value(self.delta),
            "n_evals": int(self.n_evals[row]),
            "error_estimate": None if error is None else float(error[row]),
        }

    @property
    def std(self) -> dict[str, torch.Tensor] | None:
        """Per input, the spread of each score across the noisy samples, or None."""
        if self.samples is None:
            return None
        return {k: v.std(1, unbiased=False) for k, v in self.samples.items()}


def attribute_batch(
    batch: Batch,
    sets: Sequence[BaselineSet],
    target: TargetSpec,
    options: Options,
    check_output: Callable[[Any], None] | None = None,
    several_targets: bool = False,
) -> Scores:
    """Integrated Gradients of ``batch`` averaged over ``sets``, reduced to input shapes.

    Args:
        batch: The inputs and how the model reads them.
        sets: S baseline sets (at least one); the attributions are averaged over them.
        target: Any target form of :mod:`integrad.targets`; a list or 1-D tensor gives one
            target per example (of the N).
        options: Resolved integration settings.
        check_output: Called on what the model returns at the inputs, before integrating.
        several_targets: Allow K targets per example (generation: one per generated token).
    """
    if not sets:
        raise BaselineError("no baseline was given; give at least one")
    n, s = batch.size, len(sets)
    _check_layers(batch)
    keys = list(batch.inputs)
    inputs = {k: _repeat(x, s) for k, x in batch.inputs.items()}
    baseline = {
        k: torch.cat([_input_baseline(st.inputs.get(k), batch.inputs[k]) for st in sets])
        for k in keys
        if k not in batch.layer or any(st.inputs.get(k) is not None for st in sets)
    }
    layer_baseline = _layer_baselines(batch, sets)
    kwargs = {k: _repeat_rows(v, n, s) for k, v in batch.forward_kwargs.items()}
    question = Question(
        baseline=baseline,
        target=repeat_target(target, n, s),
        layer=dict(batch.layer) or None,
        layer_baseline=layer_baseline or None,
        forward_kwargs=kwargs,
        labels=batch.labels,
    )
    res = run(
        _keyword_call(batch.model, keys) if batch.positional else batch.model,
        inputs,
        options,
        question,
        lambda raw, acts: _check_first_call(batch, raw, acts, check_output),
        several_targets,
    )
    multi = res.delta.dim() == 2
    reduced = _reduce(res.attributions, batch, multi)
    per_set = {k: v.reshape(s, n, *v.shape[1:]) for k, v in reduced.items()}
    samples = None
    if res.samples is not None:  # each noisy sample reduced on its own, averaged over sets
        n_samples = next(iter(res.samples.values())).shape[1]
        each = [
            _reduce({k: v[:, i] for k, v in res.samples.items()}, batch, multi)
            for i in range(n_samples)
        ]
        samples = {
            k: torch.stack([r[k] for r in each], 1)
            .reshape(s, n, n_samples, *each[0][k].shape[1:])
            .mean(0)
            for k in each[0]
        }

    def by_set(value: torch.Tensor) -> torch.Tensor:
        return value.reshape(s, n, *value.shape[1:])

    return Scores(
        scores={k: v.mean(0) for k, v in per_set.items()},
        per_set=per_set,
        samples=samples,
        output=by_set(res.output)[0],
        baseline_output=by_set(res.baseline_output).mean(0),
        delta=by_set(res.delta).mean(0),
        n_evals=by_set(res.n_evals).sum(0),
        error_estimate=None if res.error_estimate is None else by_set(res.error_estimate).amax(0),
        target=None if res.target is None else by_set(res.target)[0],
        model_output=by_set(res.model_output)[0],  # type: ignore[arg-type]
        baseline_model_output=by_set(res.baseline_model_output),  # type: ignore[arg-type]
        options=res.options,
        multi=multi,
    )


def record_layers(batch: Batch, inputs: dict[str, torch.Tensor]) -> dict[str, list[torch.Tensor]]:
    """The layered inputs' layer outputs when the model runs on ``inputs`` (rows of the same
    form as the batch's, a background table say): per input name, one tensor per module."""
    modules = [m for layer in batch.layer.values() for m in _modules(layer)]
    taps = LayerTaps(modules)
    call = _keyword_call(batch.model, list(inputs)) if batch.positional else batch.model
    with inference_state(modules_behind(batch.model)), taps.installed(), torch.no_grad():
        taps.recording()
        call(**inputs, **batch.forward_kwargs)
        taps.check_all_called()
    recorded = iter(taps.recorded)
    return {key: [next(recorded)[0] for _ in _modules(layer)] for key, layer in batch.layer.items()}  # type: ignore[index]


def _modules(layer: nn.Module | list[nn.Module]) -> list[nn.Module]:
    return [layer] if isinstance(layer, nn.Module) else list(layer)


def _check_first_call(
    batch: Batch,
    raw: Any,
    acts: list[list[torch.Tensor]],
    check_output: Callable[[Any], None] | None,
) -> None:
    """The front end's check of the output, then: every layer's tensor must start with its
    input's shape, so its scores can be summed back to positions."""
    if check_output is not None:
        check_output(raw)
    recorded = iter(acts)
    for key, layer in batch.layer.items():
        for _ in _modules(layer):
            act, x = next(recorded)[0], batch.inputs[key]
            if isinstance(layer, nn.Module) and act.shape[: x.dim()] != x.shape:
                raise LayerError(
                    f"the layer for {key!r} outputs shape {tuple(act.shape)}, which does not "
                    f"start with the input's shape {tuple(x.shape)}, so its scores cannot be "
                    "mapped back to positions; attribute at a layer that keeps one row per "
                    "input position (an nn.Embedding rather than an nn.EmbeddingBag or a "
                    "pooled output)"
                )


def _check_layers(batch: Batch) -> None:
    unknown = [k for k in batch.layer if k not in batch.inputs]
    if unknown:
        raise InputError(
            f"layer names {unknown}, which are not among the inputs {list(batch.inputs)}"
        )
    for key, x in batch.inputs.items():
        if not isinstance(x, torch.Tensor):
            raise InputError(
                f"input {key!r} is a {type(x).__name__}, not a tensor; convert it with "
                "torch.as_tensor(...), or pass it in forward_kwargs if it is not attributed"
            )
        if key not in batch.layer and not x.is_floating_point():
            raise InputError(
                f"input {key!r} holds integers ({x.dtype}), such as token or category ids, "
                f"which cannot be interpolated. Give its embedding: layer={{{key!r}: "
                "model.<embedding>}} (or a list of per-column embeddings), or pass it in "
                "forward_kwargs if it is not a feature (a mask, say)"
            )
        layer = batch.layer.get(key)
        if layer is not None and not isinstance(layer, nn.Module):
            count = len(layer)
            if x.dim() != 2 or x.shape[1] != count:
                raise LayerError(
                    f"layer for {key!r} is a list of {count} modules, one per column, but the "
                    f"input has shape {tuple(x.shape)}; a list needs a (N, {count}) input whose "
                    "column j goes through module j"
                )


class _Positional(nn.Module):
    """A module called with keyword inputs that calls ``model`` with them positionally."""

    def __init__(self, model: nn.Module, keys: list[str]) -> None:
        super().__init__()
        self.model = model
        self.keys = keys

    def forward(self, **kwargs: Any) -> Any:
        return self.model(*[kwargs.pop(k) for k in self.keys], **kwargs)


def _keyword_call(model: Callable[..., Any], keys: list[str]) -> Callable[..., Any]:
    """``model`` called positionally, in the inputs' order, from keyword inputs. A module
    stays a module (the engine puts it in eval mode); a function stays a function (the
    engine checks that it is deterministic)."""
    if isinstance(model, nn.Module):
        return _Positional(model, keys)

    def call(**kwargs: Any) -> Any:
        return model(*[kwargs.pop(k) for k in keys], **kwargs)

    return call


def _repeat(x: torch.Tensor, s: int) -> torch.Tensor:
    """(N, ...) -> (S * N, ...), set-major."""
    return x if s == 1 else x.repeat(s, *[1] * (x.dim() - 1))


def _repeat_rows(value: Any, n: int, s: int) -> Any:
    """A forward keyword repeated for S sets, when its first dimension is the batch."""
    if s > 1 and isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == n:
        return _repeat(value, s)
    return value


def repeat_target(target: Any, n: int, s: int) -> Any:
    """Per-example targets of N examples repeated for S copies of the batch (set-major);
    other forms apply to every row as they are."""
    if s == 1 or target is None or isinstance(target, (int, str, tuple)) or callable(target):
        return target
    if isinstance(target, torch.Tensor):
        return _repeat(target, s) if target.dim() > 0 else target
    items = list(target)
    if len(items) != n:
        raise TargetError(f"target gives {len(items)} entries for {n} examples; give one each")
    return items * s


def _input_baseline(value: Any, x: torch.Tensor) -> torch.Tensor:
    """One set's input-space baseline as (N, ...) rows."""
    if value is None:
        return torch.zeros_like(x)
    if isinstance(value, (int, float)):
        return torch.full_like(x, float(value))
    try:
        return value.to(device=x.device, dtype=x.dtype).expand_as(x)
    except RuntimeError as err:
        raise BaselineError(
            f"a baseline has shape {tuple(value.shape)}, which does not broadcast to the "
            f"input's shape {tuple(x.shape)}; give one row per example or one for all"
        ) from err


def _layer_baselines(batch: Batch, sets: Sequence[BaselineSet]) -> dict[str, Any]:
    """Per layered input, the sets' layer-space baselines stacked set-major, when every set
    gives one (or gives nothing: zeros); inputs some set gives in input space are recorded."""
    n = batch.size
    out: dict[str, Any] = {}
    for key, layer in batch.layer.items():
        if any(st.inputs.get(key) is not None and key not in st.layers for st in sets):
            continue  # recorded by the engine from the input-space baselines
        modules = _modules(layer)
        per_module: list[list[Any]] = [[] for _ in modules]
        for st in sets:
            given = st.layers.get(key)
            items = list(given) if isinstance(given, (list, tuple)) else [given] * len(modules)
            for i, item in enumerate(items):
                per_module[i].append(item)
        stacked = [_stack(items, n) for items in per_module]
        out[key] = stacked[0] if isinstance(layer, nn.Module) else stacked
    return out


def _stack(items: list[Any], n: int) -> Any:
    """Layer baselines of S sets as (S * N, ...) rows; None (zeros) when no set gives one."""
    if all(item is None for item in items):
        return 0.0
    if any(item is None for item in items):
        reference = next(item for item in items if item is not None)
        items = [torch.zeros_like(reference) if item is None else item for item in items]
    return torch.cat([item.expand(n, *item.shape[1:]) for item in items])


def _reduce(attributions: Mapping[str, Any], batch: Batch, multi: bool) -> dict[str, torch.Tensor]:
    """Each input's attributions summed over a layer's extra dimensions, back to its shape."""
    lead = 2 if multi else 1  # batch, and K when several targets
    out = {}
    for key, x in batch.inputs.items():
        a = attributions[key]
        if isinstance(a, list):  # one layer per column: (rows, [K,] *act) each
            columns = [p.reshape(*p.shape[:lead], -1).sum(-1) for p in a]
            out[key] = torch.stack(columns, -1).double()
            continue
        if isinstance(a, tuple):
            raise InputError(
                f"the layer for {key!r} returns several tensors; explain functions attribute "
                "to layers that return one (use integrad.attribute for others)"
            )
        keep = lead + x.dim() - 1  # the input's own dimensions, after batch (and K)
        out[key] = (a.reshape(*a.shape[:keep], -1).sum(-1) if a.dim() > keep else a).double()
    return out
