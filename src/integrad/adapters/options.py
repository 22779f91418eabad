"""What every explain function shares about its options: checking and reporting them."""

from __future__ import annotations

import inspect
from collections.abc import Collection, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from integrad.errors import InputError


def check_options(options: Mapping[str, Any], function: str, set_here: Collection[str]) -> None:
    """Refuse extra keywords that :func:`integrad.attribute` would not take from ``function``.

    Args:
        options: The extra keyword arguments the explain function received.
        function: Its name, for the message.
        set_here: The :func:`integrad.attribute` arguments the explain function sets itself.
    """
    from integrad.core.attribute import attribute

    clash = sorted(set(set_here) & set(options))
    if clash:
        raise InputError(
            f"{function}() sets {clash} itself; use its own arguments (target=, baseline=, "
            "score=, ...) or call integrad.attribute directly"
        )
    allowed = [p for p in inspect.signature(attribute).parameters if p not in set_here]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(
            f"{function}() got unknown option(s) {unknown}; it passes on only "
            f"{', '.join(allowed)} to integrad.attribute (check the spelling, e.g. baseline= "
            "rather than baselines=)"
        )


def plain(value: Any) -> Any:
    """An option value as JSON-friendly data, for the settings recorded in a result."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return repr(value)
