"""integrad: Integrated Gradients that are correct by default, accurate, and fast."""

from integrad.adapters.baselines import list_baselines, register_baseline
from integrad.adapters.generation import explain_generation
from integrad.adapters.image import explain_image
from integrad.adapters.multimodal import explain_multimodal
from integrad.adapters.tabular import explain_tabular
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
    GenerationExplanation,
    GenerationExplanations,
    ImageExplanation,
    MultimodalExplanation,
    TabularExplanation,
    TextExplanation,
    TextExplanations,
)

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "BaselineError",
    "GenerationExplanation",
    "GenerationExplanations",
    "ImageExplanation",
    "InputError",
    "IntegradError",
    "IntegradWarning",
    "LayerError",
    "ModelError",
    "MultimodalExplanation",
    "Noise",
    "TabularExplanation",
    "TargetError",
    "TextExplanation",
    "TextExplanations",
    "attribute",
    "explain",
    "explain_generation",
    "explain_image",
    "explain_multimodal",
    "explain_tabular",
    "list_baselines",
    "list_rules",
    "register_baseline",
    "register_rule",
]
