"""What every result object shares: conversion to plain data and JSON, defined once."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch


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
