"""Explain models on tables: one score per column, rows and names kept.

``explain_tabular`` takes rows as a pandas DataFrame or a numpy array, turns them into the
model's tensors with a user ``transform`` (scaling, encoding), and maps the attributions
back to the original columns: several tensor columns for one feature (one-hot) are summed,
and categorical columns that go through embedding layers are attributed at the embedding
output (never by interpolating category ids) and summed over the embedding dimension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from integrad.adapters.baselines import BaselineContext, make_baseline
from integrad.adapters.named import BaselineSet, attribute_named
from integrad.adapters.outputs import (
    check_options,
    class_probabilities,
    forward_output,
    label_names,
    model_module,
    resolve_class_target,
)
from integrad.adapters.tabular_inputs import (
    as_frame,
    as_inputs,
    check_layers,
    column_map,
    default_transform_for,
    group_columns,
)
from integrad.core.model_state import inference_state
from integrad.errors import BaselineError
from integrad.results.tabular import TabularExplanation

Transform = Callable[[pd.DataFrame], torch.Tensor | Mapping[str, torch.Tensor]]


def explain_tabular(
    model: Callable[..., Any],
    rows: Any,
    *,
    feature_names: Sequence[str] | None = None,
    baseline: str | Any = "mean",
    background: Any = None,
    transform: Transform | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    layer: Mapping[str, nn.Module | Sequence[nn.Module]] | None = None,
    target: Any = None,
    labels: Sequence[str] | None = None,
    score: str = "logit",
    noise: Any = None,
    method: str = "gausslegendre",
    n_steps: int = 50,
    **ig_options: Any,
) -> TabularExplanation:
    """Explain a model's predictions on table rows, one score per column.

    Args:
        model: A torch model. It is called as ``model(tensor)`` when ``transform`` returns a
            tensor, or ``model(**tensors)`` when it returns a dict of named tensors.
        rows: A DataFrame, a Series (one row), or a 1-D / 2-D numpy array or tensor.
        feature_names: Column names for arrays (default ``x0, x1, ...``).
        baseline: ``"mean"`` (default) or ``"median"`` of the background per column,
            ``"zeros"``, one row (Series, dict, 1-row DataFrame, 1-D array), or a background
            DataFrame / 2-D array whose rows are all used as baselines and averaged
            (expected-gradients style; costs one IG run per background row).
        background: Rows that ``"mean"`` and ``"median"`` summarise (training data); default
            the explained rows. Categorical inputs get the mean (median) of their embedding
            activations over these rows.
        transform: DataFrame -> a float tensor (N, W), or a dict of named tensors (integer
            ones need a ``layer``). Default: the numeric columns as float32, in order.
        columns: For each input of the transform, the feature each of its columns (dim 1)
            belongs to; repeated names are summed (one-hot encodings). Default for a tensor
            with one column per feature: the feature names in order.
        layer: Input name -> embedding module, or -> a list of modules, one per column.
        target: None / ``"predicted"`` (the top class), an index, a label, one per row, or a
            callable on the output.
        labels: Class names, for targets by name and display.
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
        noise: An ``integrad.Noise`` for SmoothGrad-style averaging (reported as ``std``).
        method: Integration rule (see :func:`integrad.attribute`).
        n_steps: Points on the path per example.
        **ig_options: Passed to :func:`integrad.attribute` (``batch_size``, ``tol``...).

    Returns:
        A :class:`~integrad.results.tabular.TabularExplanation`.

    Example:
        >>> import pandas as pd, torch, integrad
        >>> net = torch.nn.Linear(2, 1)
        >>> rows = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]})
        >>> integrad.explain_tabular(net, rows).attributions.columns.tolist()
        ['a', 'b']
    """
    frame = as_frame(rows, feature_names, "rows")
    names = list(frame.columns)
    transform = transform or default_transform_for(model)
    inputs, positional = as_inputs(transform(frame), len(frame), "rows")
    col_map = column_map(columns, inputs, names)
    layers = dict(layer or {})
    check_layers(inputs, layers)
    check_options(ig_options, "explain_tabular")
    if noise is not None:
        ig_options["noise"] = noise
    ig_options.update(method=method, n_steps=n_steps)
    with inference_state(model_module(model)):
        logits, _ = forward_output(model, inputs, positional=positional)
        resolved = resolve_class_target(target, logits, labels)
        described, sets = _baseline_sets(
            baseline, background, frame, inputs, transform, model, layers, positional
        )
        res = attribute_named(
            model,
            inputs,
            sets,
            layer=layers,
            target=resolved,
            positional=positional,
            score=score,
            ig_options=ig_options,
        )
    # (K, N, n_features) per baseline set -> mean and spread over the sets.
    per_set = group_columns(res.per_set, col_map, names)
    index = frame.index

    def table(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=index, columns=per_set.columns)

    target_index = None if res.target is None else res.target.tolist()
    probabilities = class_probabilities(logits)
    return TabularExplanation(
        attributions=table(per_set.values.mean(0)),
        values=frame[list(per_set.columns)],
        baseline=described,
        target=target_index,
        target_labels=label_names(target_index, labels),
        predicted=logits.reshape(len(frame), -1).argmax(1).tolist(),
        probabilities=None
        if probabilities is None
        else pd.DataFrame(probabilities.numpy(), index=index, columns=_class_names(logits, labels)),
        output=pd.Series(res.output.double().numpy(), index=index, name="output"),
        baseline_output=pd.Series(
            res.baseline_output.double().numpy(), index=index, name="baseline_output"
        ),
        delta=pd.Series(res.delta.double().numpy(), index=index, name="delta"),
        n_evals=pd.Series(res.n_evals.numpy(), index=index, name="n_evals"),
        method=res.method,
        n_steps=res.n_steps,
        score=res.score,
        std=None
        if res.std is None
        else table(
            group_columns({k: v[None] for k, v in res.std.items()}, col_map, names).values[0]
        ),
        spread=None if len(sets) == 1 else table(per_set.values.std(0)),
        error_estimate=None
        if res.error_estimate is None
        else pd.Series(res.error_estimate.numpy(), index=index, name="error_estimate"),
    )


def _class_names(logits: torch.Tensor, labels: Sequence[str] | None) -> list[str]:
    n = logits.reshape(logits.shape[0], -1).shape[1]
    return list(labels) if labels is not None and len(labels) == n else [str(i) for i in range(n)]


def _baseline_sets(
    baseline: Any,
    background: Any,
    frame: pd.DataFrame,
    inputs: dict[str, torch.Tensor],
    transform: Transform,
    model: Callable[..., Any],
    layers: dict[str, Any],
    positional: bool,
) -> tuple[str, list[BaselineSet]]:
    """The baseline sets to average over and a description; see :func:`explain_tabular`."""
    names = list(frame.columns)
    if isinstance(baseline, str):
        bg_frame = frame if background is None else as_frame(background, names, "background")
        bg, _ = as_inputs(transform(bg_frame), len(bg_frame), "background")
        values: dict[str, Any] = {}
        for key, x in inputs.items():
            if key in layers:
                continue
            ctx = BaselineContext(background=bg[key])
            values[key] = make_baseline(baseline, x[:1], ctx, "tabular")
        acts = _layer_summaries(baseline, model, bg, layers, positional)
        source = "" if background is None else f" of {len(bg_frame)} background rows"
        return f"{baseline}{source}", [BaselineSet(values, acts)]
    reference = as_frame(baseline, names, "baseline")
    ref_inputs, _ = as_inputs(transform(reference), len(reference), "baseline")
    sets = [
        BaselineSet({key: v[i : i + 1] for key, v in ref_inputs.items()}, {})
        for i in range(len(reference))
    ]
    described = "given row" if len(sets) == 1 else f"mean over {len(sets)} background rows"
    return described, sets


def _layer_summaries(
    name: str,
    model: Callable[..., Any],
    background: dict[str, torch.Tensor],
    layers: dict[str, Any],
    positional: bool,
) -> dict[str, Any]:
    """Activation baselines of layered (categorical) inputs: zeros, or the background's
    mean or median activation, (1, *act) per module."""
    if not layers or name == "zeros":
        return {}
    if name not in ("mean", "median"):
        raise BaselineError(
            f"baseline {name!r} has no meaning for the embedded inputs {sorted(layers)}; use "
            "'mean', 'median' or 'zeros', or give a baseline row"
        )
    modules = {k: [m] if isinstance(m, nn.Module) else list(m) for k, m in layers.items()}
    flat = [m for k in layers for m in modules[k]]
    _, recorded = forward_output(model, background, positional=positional, record=flat)
    if recorded[0].shape[0] < 2:
        raise BaselineError(
            f"the {name!r} baseline of embedded inputs needs at least two background rows; "
            "pass background=<training rows>"
        )
    summaries = [
        a.mean(0, keepdim=True) if name == "mean" else a.quantile(0.5, dim=0, keepdim=True)
        for a in recorded
    ]
    out: dict[str, Any] = {}
    position = 0
    for key in layers:
        count = len(modules[key])
        chosen = summaries[position : position + count]
        out[key] = chosen[0] if isinstance(layers[key], nn.Module) else chosen
        position += count
    return out
