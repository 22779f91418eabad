"""Names a package exports, imported on first use (PEP 562), so importing the package is free."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def by_module(modules: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{module: names}`` turned around into ``{name: module}``."""
    return {name: module for module, names in modules.items() for name in names}


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, resolving ``exports`` (name -> module).

    Example:
        >>> __getattr__, __dir__ = lazy_exports(__name__, {"attribute": "integrad.core.engine"})
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
