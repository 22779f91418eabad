"""integrad: Integrated Gradients that are correct by default, accurate, and fast.

The public names below are imported on first use, so ``import integrad`` (and the
``integrad`` command's ``--help``) costs nothing until a function is called.
"""

from typing import TYPE_CHECKING

from integrad import results
from integrad._lazy import by_module, lazy_exports

__version__ = "0.2.0"

ERRORS = ("IntegradError", "InputError", "BaselineError", "TargetError", "ModelError")
ERRORS += ("LayerError", "IntegradWarning")

EXPORTS = {
    **dict.fromkeys(("attribute", "list_rules", "register_rule"), "integrad.core"),
    **{name: "integrad.results" for name in results.EXPORTS if not name[0].islower()},
    **dict.fromkeys(ERRORS, "integrad.errors"),
    **by_module(
        {
            "integrad.results.base": ["load_result"],
            "integrad.options": ["Options", "Noise"],
            "integrad.baselines": ["list_baselines", "register_baseline"],
            "integrad.targets": ["PerExample"],
            "integrad.modalities.text": ["explain"],
            "integrad.modalities.image": ["explain_image"],
            "integrad.modalities.tabular": ["explain_tabular"],
            "integrad.modalities.multimodal": ["explain_multimodal"],
            "integrad.modalities.generation": ["explain_generation"],
            "integrad.runs.runner": ["explain_dataset"],
            "integrad.runs.shards": ["load_run"],
            "integrad.runs.summary": ["summarize"],
            "integrad.web.server": ["serve"],
        }
    ),
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)

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
    from integrad.runs.runner import explain_dataset
    from integrad.runs.shards import load_run
    from integrad.runs.summary import summarize
    from integrad.targets import PerExample
    from integrad.web.server import serve
