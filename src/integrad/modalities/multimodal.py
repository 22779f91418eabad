"""Explain models that take several named inputs at once: text, numbers, categories...

Every input is attributed in one pass: float inputs directly, integer ones (token ids,
category ids) at their embedding layer. Scores are reduced to one per token, number or
category, grouped into modalities, and each modality's share of F(x) - F(baseline) is
reported; completeness holds across all of them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from integrad.errors import InputError
from integrad.options import Options, renamed
from integrad.pipeline import BaselineSet, Batch, Scores, attribute_batch
from integrad.results.multimodal import FeatureScore, MultimodalExplanation

#: Keyword arguments renamed in this release (kept for one release).
_RENAMED = {"baselines": "baseline", "layer_baselines": "layer_baseline"}
#: Inputs that are held at their value, not attributed: they say how to read the others.
FIXED = ("attention_mask", "token_type_ids", "position_ids")
Names = Mapping[str, Sequence[str] | Sequence[Sequence[str]]]


def explain_multimodal(
    model: Callable[..., Any],
    inputs: Mapping[str, torch.Tensor],
    *,
    layer: Mapping[str, nn.Module | Sequence[nn.Module]] | None = None,
    baseline: Mapping[str, Any] | None = None,
    layer_baseline: Mapping[str, Any] | None = None,
    modalities: Mapping[str, str] | None = None,
    names: Names | None = None,
    values: Names | None = None,
    tokenizer: Any = None,
    fixed: Sequence[str] = FIXED,
    forward_kwargs: Mapping[str, Any] | None = None,
    target: Any = None,
    labels: Sequence[str] | None = None,
    **settings: Any,
) -> MultimodalExplanation:
    """Explain a model over several named inputs, with each modality's share of the output.

    Args:
        model: A torch model called as ``model(**inputs)``.
        inputs: Named tensors with a shared batch dimension, e.g. ``input_ids``,
            ``attention_mask``, ``numbers`` (N, F) floats, ``categories`` (N, C) ids.
        layer: Input name -> the module whose output stands for that input (an
            ``nn.Embedding``), or -> a list of modules, one per column. Integer inputs need
            one; they are never interpolated.
        baseline: Input-space baselines by name (pad token ids, reference numbers); layered
            inputs given here are recorded through their layer. Missing inputs get zeros.
            (``baselines=`` is the deprecated spelling.)
        layer_baseline: Baselines in a layer's space by name; layered inputs with no
            baseline at all get zero activations (zero embeddings). (``layer_baselines=``
            is the deprecated spelling.)
        modalities: Input name -> modality name, to group inputs (default: one per input).
        names: Per input, the name of each position (dim 1): one list for all examples, or
            one per example. Default: tokens from ``tokenizer`` for ``input_ids``, else
            ``"<input>[i]"``.
        values: Per input, how each position's value reads (e.g. category names); default
            the tensor value (tokens show none).
        tokenizer: Names the ``input_ids`` positions (``convert_ids_to_tokens``).
        fixed: Inputs held at their value and not attributed (masks); those present are
            passed to the model unchanged and listed in the result.
        forward_kwargs: Further non-attributed keyword arguments for the model.
        target: None / ``"predicted"``, an index, a label, one per example, or a callable.
        labels: Class names, for targets by name and display.
        **settings: Integration settings (``method``, ``n_steps``, ``tol``, ``noise``,
            ``score``, ...): see :class:`integrad.Options`. For layered inputs the noise goes
            on the embeddings, never on the ids; its spread is reported per feature.

    Returns:
        A :class:`~integrad.results.multimodal.MultimodalExplanation`.

    Example:
        >>> exp = integrad.explain_multimodal(
        ...     model, {"input_ids": ids, "attention_mask": mask, "numbers": nums},
        ...     layer={"input_ids": model.text_embedding})
        >>> exp.shares  # {"input_ids": tensor([...]), "numbers": tensor([...])}
    """
    old = renamed(settings, _RENAMED, "explain_multimodal")
    baseline, layer_baseline = (
        old.get("baseline", baseline),
        old.get("layer_baseline", layer_baseline),
    )
    options = Options.from_settings(settings, function="explain_multimodal()")
    if not isinstance(inputs, Mapping) or not inputs:
        raise InputError(
            "inputs must be a non-empty dict from the model's argument names to tensors, e.g. "
            "{'input_ids': ids, 'attention_mask': mask, 'numbers': numbers}"
        )
    kwargs = dict(forward_kwargs or {})
    kept = [key for key in inputs if key in fixed and key not in (layer or {})]
    kwargs.update({key: inputs[key] for key in kept})
    attributed = {key: x for key, x in inputs.items() if key not in kept}
    _check_inputs(attributed, layer or {})
    layers = {k: v if isinstance(v, nn.Module) else list(v) for k, v in (layer or {}).items()}
    groups = {key: (modalities or {}).get(key, key) for key in attributed}
    res = attribute_batch(
        Batch(model, attributed, layer=layers, forward_kwargs=kwargs, labels=labels),
        [BaselineSet(dict(baseline or {}), dict(layer_baseline or {}))],
        target,
        options,
    )
    n = res.output.shape[0]
    mask = inputs.get("attention_mask")
    totals = {m: torch.zeros(n, dtype=res.delta.dtype) for m in dict.fromkeys(groups.values())}
    for key, s in res.scores.items():
        totals[groups[key]] = totals[groups[key]] + s.reshape(n, -1).sum(1).to(res.delta.dtype)
    difference = res.output - res.baseline_output
    # A share is undefined when the output did not move; nan says so instead of inf.
    safe = torch.where(difference.abs() > 1e-12, difference, torch.full_like(difference, torch.nan))
    features = [
        [
            feature
            for key in attributed
            for feature in _features(
                key, groups[key], i, attributed[key], res, mask, names, values, tokenizer
            )
        ]
        for i in range(n)
    ]
    return MultimodalExplanation(
        **res.batch_fields(labels),
        features=features,
        scores=res.scores,
        modalities=groups,
        modality_totals=totals,
        shares={m: t / safe for m, t in totals.items()},
        fixed=kept,
        std=res.std,
    )


def _check_inputs(inputs: Mapping[str, Any], layers: Mapping[str, Any]) -> None:
    unknown = [key for key in layers if key not in inputs]
    if unknown:
        raise InputError(f"layer names {unknown}, which are not among the inputs {list(inputs)}")
    for key, x in inputs.items():
        if not isinstance(x, torch.Tensor):
            raise InputError(
                f"input {key!r} is a {type(x).__name__}, not a tensor; convert it with "
                "torch.as_tensor(...), or pass it in forward_kwargs if it is not attributed"
            )
        if key not in layers and not x.is_floating_point():
            raise InputError(
                f"input {key!r} holds integers ({x.dtype}), which cannot be interpolated. Give "
                f"its embedding as layer={{{key!r}: model.<embedding>}} (or a list of "
                "per-column embeddings), or list it in fixed= / forward_kwargs if it is not a "
                "feature (a mask, say)"
            )


def _features(
    key: str,
    modality: str,
    example: int,
    x: torch.Tensor,
    res: Scores,
    mask: torch.Tensor | None,
    names: Names | None,
    values: Names | None,
    tokenizer: Any,
) -> list[FeatureScore]:
    """One example's scores for one input, one per position; masked-out positions dropped."""
    row = x[example]
    scores = res.scores[key][example].reshape(row.shape[0] if row.dim() else 1, -1).sum(1)
    std = None
    if res.samples is not None:  # each sample's score per position, then the exact spread
        per_sample = res.samples[key][example]  # (n_samples, *input.shape[1:])
        std = (
            per_sample.reshape(per_sample.shape[0], scores.shape[0], -1)
            .sum(2)
            .std(0, unbiased=False)
        )
    count = scores.shape[0]
    shown = list(range(count))
    if mask is not None and mask.shape == x.shape and x.dim() == 2:
        shown = [j for j in shown if bool(mask[example, j])]
    labels = _per_example(names, key, example, count)
    if labels is None and key == "input_ids" and tokenizer is not None:
        labels = list(tokenizer.convert_ids_to_tokens(row.tolist()))
    if labels is None:
        labels = [key] if row.dim() == 0 else [f"{key}[{j}]" for j in range(count)]
    shown_values = _per_example(values, key, example, count)
    if shown_values is None:
        flat = row.reshape(-1) if row.dim() <= 1 else None
        is_token = key == "input_ids"
        shown_values = [
            ""
            if is_token or flat is None
            else f"{float(flat[j]):.4g}"
            if x.is_floating_point()
            else str(int(flat[j]))
            for j in range(count)
        ]
    return [
        FeatureScore(
            input=key,
            modality=modality,
            position=j,
            name=str(labels[j]),
            value=str(shown_values[j]),
            score=float(scores[j]),
            std=None if std is None else float(std[j]),
        )
        for j in shown
    ]


def _per_example(given: Names | None, key: str, example: int, count: int) -> list[str] | None:
    if given is None or key not in given:
        return None
    items = list(given[key])
    if items and not isinstance(items[0], str):  # one list per example
        items = list(items[example])
    if len(items) != count:
        raise InputError(
            f"names/values for {key!r} give {len(items)} entries but the input has {count} "
            "positions; give one per position (dim 1), for all examples or one list each"
        )
    return [str(item) for item in items]
