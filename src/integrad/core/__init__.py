"""The IG engine: integration rules, the evaluation loop, layer substitution, batching.

Nothing here imports transformers, pandas or matplotlib: every front end meets the same
small engine. Names are imported on first use, so ``integrad.core.rules`` loads without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "attribute": "integrad.core.engine",
    "list_rules": "integrad.core.rules",
    "register_rule": "integrad.core.rules",
    "rule_points": "integrad.core.rules",
    "Noise": "integrad.options",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'integrad.core' has no attribute {name!r}")
