"""What every result object shares: conversion to plain data and JSON, defined once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from integrad.errors import InputError


def jsonable(value: Any) -> Any:
    """Tensors and arrays become nested lists; containers are converted recursively."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class ResultMixin:
    """``to_dict`` and ``to_json`` for every result dataclass, defined once."""

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain Python data (tensors become lists)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    def to_json(self, **kwargs: Any) -> str:
        """``to_dict()`` as a JSON string; keyword arguments go to ``json.dumps``."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Any:
        """Rebuilds the result from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))  # type: ignore[attr-defined]

    @classmethod
    def _rebuild(
        cls, data: dict[str, Any], optional: set[str], nested: tuple[str, ...] = ()
    ) -> Any:
        """The dataclass from plain data: lists become tuples (``nested`` ones, of tuples)."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        missing = names - set(data) - optional
        if missing:
            raise InputError(
                f"cannot rebuild a {cls.__name__}: missing {sorted(missing)}; pass the output "
                f"of {cls.__name__}.to_dict() or to_json()"
            )
        values: dict[str, Any] = {}
        for name in names & set(data):
            value = data[name]
            if name in nested:
                value = tuple(tuple(item) for item in value)
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)

    def to_html(self) -> str:
        """A self-contained HTML fragment (escaped text, inline CSS, no script)."""
        raise NotImplementedError(f"{type(self).__name__} has no HTML view")

    def _repr_html_(self) -> str:
        # Jupyter calls this to show the result inline.
        return self.to_html()

    def save_html(self, path: str | Path, title: str = "integrad") -> None:
        """Write ``to_html()`` as a complete page to ``path``."""
        from integrad.render.html import page

        Path(path).write_text(page(self.to_html(), title=title), encoding="utf-8")


class ExplanationList(ResultMixin):
    """A read-only sequence of explanations (one per input), for frozen dataclasses that hold
    them in ``items``; subclasses name their item class in ``item_type``."""

    items: tuple[Any, ...]
    item_type: ClassVar[type]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Any:
        return self.items[index]

    def to_dict(self) -> dict[str, Any]:
        """``{"items": [one dict per input]}``."""
        return {"items": [jsonable(item.to_dict()) for item in self.items]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Rebuilds the list from :meth:`to_dict` output."""
        return cls(tuple(cls.item_type.from_dict(item) for item in data["items"]))  # type: ignore[call-arg]

    def _check_no_ax(self, ax: Any, what: str) -> None:
        """Lists draw one chart per item into a figure of their own."""
        if ax is not None:
            raise InputError(
                f"{type(self).__name__}.plot() draws one {what} per input and takes no ax; plot "
                "one input into your axes with explanations[i].plot(ax=ax)"
            )
