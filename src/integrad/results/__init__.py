"""Result objects: frozen dataclasses that carry attributions and how they were made.

Names are imported on first use, so the engine's result (``Attribution``) loads without
pandas, which only the tabular and multimodal results need.
"""

from integrad._lazy import by_module, lazy_exports

#: Every result type, by the module that defines it (``load_result`` looks types up here).
EXPORTS = by_module(
    {
        "integrad.results.attribution": ["Attribution"],
        "integrad.results.text": ["TextExplanation", "TextExplanations"],
        "integrad.results.generation": ["GenerationExplanation", "GenerationExplanations"],
        "integrad.results.image": ["ImageExplanation"],
        "integrad.results.tabular": ["TabularExplanation"],
        "integrad.results.multimodal": ["MultimodalExplanation", "FeatureScore"],
        "integrad.results.base": ["Result", "Explanation", "BatchExplanation", "Explanations"],
    }
)
EXPORTS["load_result"] = "integrad.results.base"
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
