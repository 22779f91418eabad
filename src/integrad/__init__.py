"""integrad: Integrated Gradients that are correct by default, accurate, and fast.

The public names below are imported on first use, so ``import integrad`` (and the
``integrad`` command's ``--help``) costs nothing until a function is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_EXPORTS = {
    # the engine and its settings
    "attribute": "integrad.core.engine",
    "Options": "integrad.options",
    "Noise": "integrad.options",
    "list_rules": "integrad.core.rules",
    "register_rule": "integrad.core.rules",
    "list_baselines": "integrad.baselines",
    "register_baseline": "integrad.baselines",
    "PerExample": "integrad.targets",
    # front ends
    "explain": "integrad.modalities.text",
    "explain_image": "integrad.modalities.image",
    "explain_tabular": "integrad.modalities.tabular",
    "explain_multimodal": "integrad.modalities.multimodal",
    "explain_generation": "integrad.modalities.generation",
    # results
    "load_result": "integrad.results.base",
    "Attribution": "integrad.results.attribution",
    "TextExplanation": "integrad.results.text",
    "TextExplanations": "integrad.results.text",
    "GenerationExplanation": "integrad.results.generation",
    "GenerationExplanations": "integrad.results.generation",
    "ImageExplanation": "integrad.results.image",
    "TabularExplanation": "integrad.results.tabular",
    "MultimodalExplanation": "integrad.results.multimodal",
    # errors
    "IntegradError": "integrad.errors",
    "InputError": "integrad.errors",
    "BaselineError": "integrad.errors",
    "TargetError": "integrad.errors",
    "ModelError": "integrad.errors",
    "LayerError": "integrad.errors",
    "IntegradWarning": "integrad.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'integrad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # what static tools and IDEs see
    from integrad.baselines import list_baselines, register_baseline
    from integrad.core.engine import attribute
    from integrad.core.rules import list_rules, register_rule
    from integrad.errors import (
        BaselineError,
        InputError,
        IntegradError,
        IntegradWarning,
        LayerError,
        ModelError,
        TargetError,
    )
    from integrad.modalities.generation import explain_generation
    from integrad.modalities.image import explain_image
    from integrad.modalities.multimodal import explain_multimodal
    from integrad.modalities.tabular import explain_tabular
    from integrad.modalities.text import explain
    from integrad.options import Noise, Options
    from integrad.results.attribution import Attribution
    from integrad.results.base import load_result
    from integrad.results.generation import GenerationExplanation, GenerationExplanations
    from integrad.results.image import ImageExplanation
    from integrad.results.multimodal import MultimodalExplanation
    from integrad.results.tabular import TabularExplanation
    from integrad.results.text import TextExplanation, TextExplanations
    from integrad.targets import PerExample
