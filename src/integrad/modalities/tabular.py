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

from integrad.baselines import BaselineContext, make_baseline
from integrad.errors import BaselineError
from integrad.modalities.tabular_inputs import (
    as_frame,
    as_inputs,
    check_layers,
    column_map,
    default_transform_for,
    group_columns,
)
from integrad.options import Options
from integrad.pipeline import BaselineSet, Batch, attribute_batch, record_layers
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
    **settings: Any,
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
        **settings: Integration settings (``method``, ``n_steps``, ``tol``, ``noise``,
            ``score``, ...): see :class:`integrad.Options`. With ``noise``, the spread across
            samples is reported as ``std``.

    Returns:
        A :class:`~integrad.results.tabular.TabularExplanation`.

    Example:
        >>> import pandas as pd, torch, integrad
        >>> net = torch.nn.Linear(2, 1)
        >>> rows = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]})
        >>> integrad.explain_tabular(net, rows).attributions.columns.tolist()
        ['a', 'b']
    """
    options = Options.from_settings(settings, function="explain_tabular()")
    frame = as_frame(rows, feature_names, "rows")
    names = list(frame.columns)
    transform = transform or default_transform_for(model)
    inputs, positional = as_inputs(transform(frame), len(frame), "rows")
    col_map = column_map(columns, inputs, names)
    layers = {k: v if isinstance(v, nn.Module) else list(v) for k, v in (layer or {}).items()}
    check_layers(inputs, layers)
    batch = Batch(model, inputs, layer=layers, positional=positional, labels=labels)
    described, sets = _baseline_sets(baseline, background, frame, batch, transform)
    res = attribute_batch(batch, sets, target, options)
    # (S, N, n_features) per baseline set -> mean and spread over the sets.
    per_set = group_columns(res.per_set, col_map, names)
    index = frame.index

    def table(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=index, columns=per_set.columns)

    std = None
    if res.samples is not None:  # each noisy sample grouped into features, then the spread
        grouped = group_columns(
            {k: v.transpose(0, 1) for k, v in res.samples.items()}, col_map, names
        )
        std = table(grouped.values.std(0))
    fields = res.batch_fields(labels)
    if fields["probabilities"] is not None:  # rows by classes, with the rows' index
        probabilities = fields["probabilities"].numpy()
        classes = _class_names(probabilities.shape[1], labels)
        fields["probabilities"] = pd.DataFrame(probabilities, index=index, columns=classes)
    return TabularExplanation(
        **fields,
        attributions=table(per_set.values.mean(0)),
        values=frame[list(per_set.columns)],
        baseline=described,
        std=std,
        spread=None if len(sets) == 1 else table(per_set.values.std(0)),
    )


def _class_names(n: int, labels: Sequence[str] | None) -> list[str]:
    return list(labels) if labels is not None and len(labels) == n else [str(i) for i in range(n)]


def _baseline_sets(
    baseline: Any,
    background: Any,
    frame: pd.DataFrame,
    batch: Batch,
    transform: Transform,
) -> tuple[str, list[BaselineSet]]:
    """The baseline sets to average over and a description; see :func:`explain_tabular`."""
    names = list(frame.columns)
    if isinstance(baseline, str):
        bg_frame = frame if background is None else as_frame(background, names, "background")
        bg, _ = as_inputs(transform(bg_frame), len(bg_frame), "background")
        values: dict[str, Any] = {}
        for key, x in batch.inputs.items():
            if key in batch.layer:
                continue
            ctx = BaselineContext(background=bg[key])
            values[key] = make_baseline(baseline, x[:1], ctx, "tabular")
        acts = _layer_summaries(baseline, batch, bg)
        source = "" if background is None else f" of {len(bg_frame)} background rows"
        return f"{baseline}{source}", [BaselineSet(values, acts)]
    reference = as_frame(baseline, names, "baseline")
    ref_inputs, _ = as_inputs(transform(reference), len(reference), "baseline")
    sets = [
        BaselineSet({key: v[i : i + 1] for key, v in ref_inputs.items()})
        for i in range(len(reference))
    ]
    described = "given row" if len(sets) == 1 else f"mean over {len(sets)} background rows"
    return described, sets


def _layer_summaries(
    name: str, batch: Batch, background: dict[str, torch.Tensor]
) -> dict[str, Any]:
    """Baselines of layered (categorical) inputs in their embeddings' space: zeros, or the
    background's mean or median activation, (1, *act) per module."""
    if not batch.layer or name == "zeros":
        return {}
    if name not in ("mean", "median"):
        raise BaselineError(
            f"baseline {name!r} has no meaning for the embedded inputs {sorted(batch.layer)}; "
            "use 'mean', 'median' or 'zeros', or give a baseline row"
        )
    recorded = record_layers(batch, background)
    out: dict[str, Any] = {}
    for key, acts in recorded.items():
        if acts[0].shape[0] < 2:
            raise BaselineError(
                f"the {name!r} baseline of embedded inputs needs at least two background rows; "
                "pass background=<training rows>"
            )
        summaries = [
            a.mean(0, keepdim=True) if name == "mean" else a.quantile(0.5, dim=0, keepdim=True)
            for a in acts
        ]
        out[key] = summaries[0] if isinstance(batch.layer[key], nn.Module) else summaries
    return out
