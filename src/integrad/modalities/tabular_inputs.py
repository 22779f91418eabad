"""Tables as the user has them (DataFrame, Series, arrays) -> tensors, and scores -> columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from integrad.errors import InputError

#: The input name used when a transform returns one tensor (the model is called positionally).
SINGLE = "x"


def as_frame(data: Any, names: Sequence[str] | None, what: str) -> pd.DataFrame:
    """``data`` as a DataFrame with the columns ``names`` (in that order), index preserved."""
    if isinstance(data, pd.Series):
        data = data.to_frame().T.infer_objects()
    elif isinstance(data, Mapping):
        data = pd.DataFrame([data])
    if isinstance(data, pd.DataFrame):
        frame = data
        if names is not None:
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise InputError(
                    f"{what} lacks the columns {missing}; it needs the same columns as the "
                    f"explained rows: {list(names)}"
                )
            frame = frame[list(names)]
    elif isinstance(data, (np.ndarray, torch.Tensor)):
        array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else data
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2:
            raise InputError(
                f"{what} has shape {array.shape}; expected (rows, columns) or one row (columns,)"
            )
        if names is None:
            names = [f"x{i}" for i in range(array.shape[1])]
        if len(names) != array.shape[1]:
            raise InputError(
                f"{what} has {array.shape[1]} columns but {len(names)} feature names were "
                f"given ({list(names)}); give one name per column"
            )
        frame = pd.DataFrame(array, columns=list(names))
    else:
        raise InputError(
            f"{what} must be a pandas DataFrame, a Series (one row), a dict (one row) or a "
            f"numpy array; got {type(data).__name__}"
        )
    if len(frame) == 0:
        raise InputError(f"{what} has no rows; pass at least one row")
    return frame


def default_transform(frame: pd.DataFrame) -> torch.Tensor:
    """The numeric columns as a float32 tensor (N, F); other columns need a transform."""
    numeric = frame.select_dtypes(include=["number", "bool"]).columns
    other = [c for c in frame.columns if c not in numeric]
    if other:
        raise InputError(
            f"columns {other} are not numeric, so they cannot be fed to the model as they are. "
            "Pass transform=<DataFrame -> tensors> that encodes them, and layer= for the "
            "embedding of categorical columns"
        )
    return torch.tensor(frame.to_numpy(dtype=np.float32))  # a copy: frames may be read-only


def default_transform_for(model: Any) -> Callable[[pd.DataFrame], torch.Tensor]:
    """:func:`default_transform`, in the dtype of the model's parameters (float64 models)."""
    params = model.parameters() if isinstance(model, torch.nn.Module) else iter(())
    dtype = next((p.dtype for p in params if p.is_floating_point()), torch.float32)
    return lambda frame: default_transform(frame).to(dtype)


def check_layers(inputs: Mapping[str, torch.Tensor], layers: Mapping[str, Any]) -> None:
    """Integer inputs (category ids) need a layer; layers must name inputs."""
    unknown = [key for key in layers if key not in inputs]
    if unknown:
        raise InputError(
            f"layer names {unknown}, which the transform did not return (it gave {list(inputs)})"
        )
    for key, x in inputs.items():
        if key not in layers and not x.is_floating_point():
            raise InputError(
                f"input {key!r} holds integers ({x.dtype}), such as category ids, which cannot "
                f"be interpolated. Pass its embedding: layer={{{key!r}: model.<embedding>}}, or a "
                "list of per-column embeddings; or make the transform return floats (one-hot)"
            )


def as_inputs(out: Any, n: int, what: str) -> tuple[dict[str, torch.Tensor], bool]:
    """The transform's output as named tensors, and whether the model takes one positionally."""
    if isinstance(out, torch.Tensor):
        inputs, positional = {SINGLE: out}, True
    elif isinstance(out, Mapping) and all(isinstance(v, torch.Tensor) for v in out.values()):
        inputs, positional = dict(out), False
    else:
        raise InputError(
            f"transform returned {type(out).__name__} for the {what}; it must return a tensor "
            "(N, columns) or a dict of tensors with one row per table row"
        )
    for key, x in inputs.items():
        if x.dim() == 0 or x.shape[0] != n:
            got = tuple(x.shape)
            raise InputError(
                f"transform gave input {key!r} shape {got} for {n} {what}; every input needs "
                f"one row per table row, shape ({n}, ...)"
            )
    return inputs, positional


def _width(x: torch.Tensor) -> int:
    return x.shape[1] if x.dim() > 1 else 1


def column_map(
    columns: Mapping[str, Sequence[str]] | None,
    inputs: Mapping[str, torch.Tensor],
    names: Sequence[str],
) -> dict[str, list[str]]:
    """For each input, the feature name of each of its columns (dim 1), checked."""
    widths = {key: _width(x) for key, x in inputs.items()}
    if columns is None:
        if len(inputs) == 1 and next(iter(widths.values())) == len(names):
            return {next(iter(inputs)): list(names)}
        if all(key in names and w == 1 for key, w in widths.items()):
            return {key: [key] for key in inputs}
        raise InputError(
            f"the transform gave inputs with {widths} columns for the {len(names)} features "
            f"{list(names)}; say which feature each column belongs to with columns="
            "{input name: [feature per column]} (repeat a name to sum one-hot columns)"
        )
    result = {}
    for key, w in widths.items():
        if key not in columns:
            raise InputError(f"columns= does not cover input {key!r}; give its {w} feature names")
        listed = list(columns[key])
        if len(listed) != w:
            raise InputError(
                f"columns[{key!r}] names {len(listed)} features but input {key!r} has {w} columns"
            )
        unknown = [c for c in listed if c not in names]
        if unknown:
            raise InputError(
                f"columns[{key!r}] names {unknown}, which are not columns of the rows {list(names)}"
            )
        result[key] = listed
    extra = [key for key in columns if key not in inputs]
    if extra:
        raise InputError(f"columns= names inputs {extra} that the transform did not return")
    return result


@dataclass(frozen=True)
class Grouped:
    """Scores per feature: ``values`` (K, N, n_features) with ``columns`` names."""

    values: np.ndarray
    columns: list[str]


def group_columns(
    scores: Mapping[str, torch.Tensor], col_map: Mapping[str, list[str]], names: Sequence[str]
) -> Grouped:
    """Sum each input's column scores (K, N, W, ...) into their features, in ``names`` order.

    Features no input covers get zero: the model never sees them, so they cannot matter.
    """
    first = next(iter(scores.values()))
    k, n = first.shape[:2]
    out = np.zeros((k, n, len(names)))
    position = {name: i for i, name in enumerate(names)}
    for key, feature_of in col_map.items():
        values = scores[key].detach().double().cpu()
        values = values.reshape(k, n, len(feature_of), -1).sum(-1).numpy()  # (K, N, W)
        for column, feature in enumerate(feature_of):
            out[:, :, position[feature]] += values[:, :, column]
    return Grouped(out, list(names))
