"""Result objects: frozen dataclasses that carry attributions and how they were made.

Names are imported on first use, so the engine's result (``Attribution``) loads without
pandas, which only the tabular and multimodal results need.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Result": "integrad.results.base",
    "Explanation": "integrad.results.base",
    "BatchExplanation": "integrad.results.base",
    "Explanations": "integrad.results.base",
    "load_result": "integrad.results.base",
    "Attribution": "integrad.results.attribution",
    "TextExplanation": "integrad.results.text",
    "TextExplanations": "integrad.results.text",
    "GenerationExplanation": "integrad.results.generation",
    "GenerationExplanations": "integrad.results.generation",
    "ImageExplanation": "integrad.results.image",
    "TabularExplanation": "integrad.results.tabular",
    "MultimodalExplanation": "integrad.results.multimodal",
    "FeatureScore": "integrad.results.multimodal",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'integrad.results' has no attribute {name!r}")
