"""integrad: Integrated Gradients that are correct by default, accurate, and fast."""

from integrad.adapters.text import explain
from integrad.core import Noise, attribute, list_rules, register_rule
from integrad.errors import (
    BaselineError,
    InputError,
    IntegradError,
    IntegradWarning,
    LayerError,
    ModelError,
    TargetError,
)
from integrad.results import (
    Attribution,
    TextExplanation,
    TextExplanations,
)

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "BaselineError",
    "InputError",
    "IntegradError",
    "IntegradWarning",
    "LayerError",
    "ModelError",
    "Noise",
    "TargetError",
    "TextExplanation",
    "TextExplanations",
    "attribute",
    "explain",
    "list_rules",
    "register_rule",
]
