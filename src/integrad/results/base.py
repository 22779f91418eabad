"""What every result shares, defined once: plain data and JSON both ways, equality by
content, HTML pages, and the fields every explanation carries.

Results are frozen dataclasses (``kw_only``, ``eq=False``) deriving from :class:`Result`.
``to_dict`` turns every field into JSON-friendly data; tensors, arrays and pandas objects
become small tagged dicts (``{"tensor": [...], "dtype": "float32", "shape": [...]}``) so that
``from_dict`` rebuilds them exactly, with their dtype. Everything else is rebuilt from the
field's type annotation (tuples stay tuples, nested dataclasses come back as themselves).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from integrad.errors import InputError
from integrad.options import Options


def encode(value: Any) -> Any:
    """``value`` as JSON-friendly data (see the module docstring for the tagged forms)."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        return {"tensor": t.tolist(), "dtype": str(t.dtype).removeprefix("torch."),
                "shape": list(t.shape)}  # fmt: skip
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    module = type(value).__module__
    if module.startswith("pandas"):
        return _encode_pandas(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def _encode_pandas(value: Any) -> Any:
    import pandas as pd

    def label(v: Any) -> Any:
        v = encode(v)
        return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)

    if isinstance(value, pd.DataFrame):
        return {
            "frame": {
                "index": [label(i) for i in value.index],
                "columns": [str(c) for c in value.columns],
                "data": [[label(v) for v in row] for row in value.itertuples(index=False)],
            }
        }
    if isinstance(value, pd.Series):
        return {
            "series": [label(v) for v in value],
            "index": [label(i) for i in value.index],
            "name": None if value.name is None else str(value.name),
        }
    return str(value)


def decode(value: Any, hint: Any = Any) -> Any:
    """The inverse of :func:`encode`, guided by the field's type annotation ``hint``."""
    if value is None:
        return None
    if isinstance(value, dict) and "tensor" in value and "dtype" in value:
        dtype = getattr(torch, value["dtype"])
        return torch.tensor(value["tensor"], dtype=dtype).reshape(value.get("shape", [-1]))
    if isinstance(value, dict) and "array" in value and "dtype" in value:
        return np.array(value["array"], dtype=value["dtype"]).reshape(value.get("shape", [-1]))
    if isinstance(value, dict) and set(value) == {"frame"}:
        import pandas as pd

        frame = value["frame"]
        return pd.DataFrame(frame["data"], index=frame["index"], columns=frame["columns"])
    if isinstance(value, dict) and "series" in value and "index" in value:
        import pandas as pd

        return pd.Series(value["series"], index=value["index"], name=value.get("name"))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if isinstance(value, list):
            options = [a for a in options if typing.get_origin(a) in (tuple, list)] or options
        elif isinstance(value, dict):
            options = [a for a in options if a is not str] or options
        return decode(value, options[0] if options else Any)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        if hint is Options:
            return Options.from_dict(value)
        hints = typing.get_type_hints(hint)
        return hint(**{k: decode(v, hints.get(k, Any)) for k, v in value.items()})
    if isinstance(value, list):
        if origin is tuple:
            item = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
            if args and not (len(args) == 2 and args[1] is Ellipsis):
                return tuple(decode(v, a) for v, a in zip(value, args, strict=False))
            return tuple(decode(v, item) for v in value)
        item = args[0] if origin is list and args else Any
        return [decode(v, item) for v in value]
    if isinstance(value, dict):
        item = args[1] if origin is dict and len(args) == 2 else Any
        return {k: decode(v, item) for k, v in value.items()}
    return value


class Result:
    """The base of every result: conversions, equality and HTML pages, defined once.

    Subclasses are frozen, keyword-only dataclasses declared with ``eq=False`` (equality is
    by content, defined here) and implement ``to_html`` and ``plot``.
    """

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-friendly data, plus ``"type"`` (the class name)."""
        data = {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return {"type": type(self).__name__, **data, **encode(self._derived())}

    def _derived(self) -> dict[str, Any]:
        """Convenience values added to :meth:`to_dict` (ignored by :meth:`from_dict`)."""
        return {}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Rebuilds the result from :meth:`to_dict` output (e.g. parsed JSON)."""
        if not isinstance(data, dict):
            raise InputError(f"from_dict needs a dict, got {type(data).__name__}")
        named = data.get("type")
        if named is not None and named != cls.__name__:
            raise InputError(
                f"this is a {named}, not a {cls.__name__}: rebuild it with {named}.from_dict, "
                "or integrad.load_result(...) for any result"
            )
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        required = {
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        missing = required - set(data)
        if missing:
            raise InputError(
                f"cannot rebuild a {cls.__name__}: missing {sorted(missing)}; pass the output "
                f"of {cls.__name__}.to_dict() or to_json()"
            )
        values = {f.name: decode(data[f.name], hints[f.name]) for f in fields if f.name in data}
        return cls(**values)

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string; keyword arguments go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Any:
        """Rebuilds the result from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return json.dumps(self.to_dict(), sort_keys=True) == json.dumps(
            other.to_dict(),  # type: ignore[attr-defined]
            sort_keys=True,
        )

    __hash__ = None  # type: ignore[assignment]

    #: Where each view of the result is drawn: ``"html"``, ``"chart"`` (matplotlib) and
    #: ``"terminal"`` (rich), as ``"module:function"``; the function takes the result.
    VIEWS: ClassVar[dict[str, str]] = {}

    def _view(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Draw the view ``name`` of :data:`VIEWS` (render modules load only when used)."""
        if name not in self.VIEWS:
            raise NotImplementedError(f"{type(self).__name__} has no {name} view")
        module, function = self.VIEWS[name].split(":")
        return getattr(importlib.import_module(module), function)(self, *args, **kwargs)

    def to_html(self, **view: Any) -> str:
        """A self-contained HTML fragment (escaped text, inline CSS, no script)."""
        return self._view("html", **view)

    def __rich__(self) -> Any:
        # rich.print(result) shows the terminal view.
        return self._view("terminal")

    def _repr_html_(self) -> str:
        # Jupyter calls this to show the result inline.
        return self.to_html()

    def save_html(self, path: str | Path, title: str = "integrad") -> None:
        """Write :meth:`to_html` as a complete page to ``path``."""
        from integrad.render.html import page

        Path(path).write_text(page(self.to_html(), title=title), encoding="utf-8")


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class Explanation(Result):
    """The fields every explanation of one input carries.

    Attributes:
        output: F(x), the attributed score at the input.
        baseline_output: F(x'), the attributed score at the baseline.
        delta: Completeness error: sum of the scores - (output - baseline_output).
        n_evals: Gradient evaluations spent on this input.
        error_estimate: Estimated relative error of the scores (adaptive integration), or
            None for fixed rules.
        baseline: The baseline, in words.
        model_name: The model's name or path.
        options: The integration settings used (see :class:`integrad.Options`).
    """

    output: float
    baseline_output: float
    delta: float
    n_evals: int
    error_estimate: float | None = None
    baseline: str = ""
    model_name: str = ""
    options: Options = dataclasses.field(default_factory=Options)

    def plot(self, index: int | None = None, *, ax: Any = None, **view: Any) -> Any:
        """This input's chart; returns the matplotlib Figure.

        Args:
            index: Only 0 or None: one input has one chart (``index`` is there so that every
                result's ``plot`` is called the same way).
            ax: Axes to draw into; None makes a new figure.
            **view: What the chart shows (see the subclass's ``_draw``).
        """
        if index not in (None, 0):
            raise InputError(f"index {index!r} is out of range: this explains one input")
        return self._draw(ax, **view)

    def _draw(self, ax: Any, **view: Any) -> Any:
        return self._view("chart", ax=ax, **view)

    @property
    def method(self) -> str:
        """The integration rule (``options.method``)."""
        return self.options.method or ""

    @property
    def n_steps(self) -> int | None:
        """Points per path for fixed rules, None for adaptive integration."""
        return self.options.n_steps

    @property
    def score(self) -> str:
        """What was attributed: ``"logit"``, ``"probability"`` or ``"log_prob"``."""
        return self.options.score or "logit"


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class BatchExplanation(Result):
    """The fields every explanation of a batch of N inputs carries, one entry per input.

    Attributes:
        output: F(x), (N,) float64.
        baseline_output: F(x'), (N,) float64 (averaged over averaged baselines).
        delta: Completeness error per input, (N,) float64.
        n_evals: Gradient evaluations per input, (N,).
        error_estimate: Estimated relative error per input (adaptive), or None.
        baseline: The baseline, in words.
        options: The integration settings used (see :class:`integrad.Options`).
    """

    output: torch.Tensor
    baseline_output: torch.Tensor
    delta: torch.Tensor
    n_evals: torch.Tensor
    error_estimate: torch.Tensor | None = None
    baseline: str = ""
    options: Options = dataclasses.field(default_factory=Options)

    method = Explanation.method
    n_steps = Explanation.n_steps
    score = Explanation.score

    def __len__(self) -> int:
        return int(self.delta.shape[0])

    def _index(self, index: int) -> int:
        """A checked example index (negative counts from the end)."""
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, int) or not -n <= index < n:
            raise InputError(f"index {index!r} is out of range: there are {n} inputs")
        return index % n


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class ClassifierBatch(BatchExplanation):
    """A batch result of a model whose outputs are classes (or one score): what was
    predicted and which class was explained, per input.

    Attributes:
        target: The flat output index attributed per input, (N,), or None for a callable.
        predicted: The highest output per input, (N,).
        probabilities: Softmax of the outputs, (N, classes), or None for a model with one.
        labels: The class names given, if any.
    """

    target: torch.Tensor | None = None
    predicted: torch.Tensor
    probabilities: Any = None
    labels: list[str] | None = None

    @property
    def target_labels(self) -> list[str] | None:
        """The name of each input's target: ``labels[i]``, or the index as text."""
        if self.target is None:
            return None
        names = self.labels
        return [str(names[i]) if names and i < len(names) else str(i) for i in self.target.tolist()]

    def _derived(self) -> dict[str, Any]:
        return {"target_labels": self.target_labels}


class Explanations(Result):
    """A read-only sequence of explanations, one per input, in the order they were given.

    Subclasses are frozen dataclasses with one field, ``items``, and name their item class
    in ``item_type``. The per-input diagnostics are also available for all inputs at once:
    ``delta``, ``output``, ``baseline_output``, ``n_evals`` and ``error_estimate``.
    """

    items: tuple[Any, ...]
    item_type: ClassVar[type]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Any:
        return self.items[index]

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., "items": [one dict per input]}``."""
        return {"type": type(self).__name__, "items": [item.to_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Rebuilds the list from :meth:`to_dict` output."""
        return cls(tuple(cls.item_type.from_dict(item) for item in data["items"]))  # type: ignore[call-arg]

    def _stacked(self, name: str) -> torch.Tensor:
        return torch.tensor([getattr(item, name) for item in self.items], dtype=torch.float64)

    @property
    def delta(self) -> torch.Tensor:
        """Each input's completeness error."""
        return self._stacked("delta")

    @property
    def output(self) -> torch.Tensor:
        """Each input's F(x)."""
        return self._stacked("output")

    @property
    def baseline_output(self) -> torch.Tensor:
        """Each input's F(x')."""
        return self._stacked("baseline_output")

    @property
    def n_evals(self) -> torch.Tensor:
        """Each input's gradient evaluations."""
        return torch.tensor([item.n_evals for item in self.items])

    def plot(self, index: int | None = None, *, ax: Any = None, **view: Any) -> Any:
        """Charts: one input's (into ``ax`` if given), or every input's stacked in one figure.

        Args:
            index: One input's chart, or None for all of them.
            ax: Axes to draw one input into (with ``index``).
            **view: What the charts show (see the items' ``plot``).
        """
        if index is not None:
            return self.items[index].plot(ax=ax, **view)
        if ax is not None:
            raise InputError(
                f"{type(self).__name__}.plot() draws one chart per input into a figure of its "
                "own and takes no ax; plot one input into your axes with plot(index, ax=ax)"
            )
        return self._draw_all(**view)

    def _draw_all(self, **view: Any) -> Any:
        return self._view("chart", **view)

    def to_html(self, **view: Any) -> str:
        """Every input's HTML, one after the other."""
        return "".join(item.to_html(**view) for item in self.items)

    def __rich__(self) -> Any:
        # rich.print(results) shows each input's terminal view, separated by blank lines.
        from rich.console import Group
        from rich.text import Text

        parts: list[Any] = []
        for item in self.items:
            parts.extend([Text("")] if parts else [])
            parts.append(item.__rich__())
        return Group(*parts)


def load_result(data: str | dict[str, Any]) -> Result:
    """Rebuilds any result from its :meth:`Result.to_json` text or :meth:`Result.to_dict` data.

    Example:
        >>> e = load_result(explanation.to_json())  # doctest: +SKIP
    """
    import integrad.results as results

    parsed = json.loads(data) if isinstance(data, str) else data
    name = parsed.get("type") if isinstance(parsed, dict) else None
    cls = getattr(results, name) if name in results.EXPORTS else None
    if not (isinstance(cls, type) and issubclass(cls, Result)):
        raise InputError(
            f"this data names no integrad result type (type={name!r}); pass the output of a "
            "result's to_json() or to_dict()"
        )
    return cls.from_dict(parsed)
