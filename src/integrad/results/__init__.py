"""Result objects: frozen dataclasses that carry attributions and how they were made."""

from integrad.results.attribution import Attribution
from integrad.results.base import ResultMixin, jsonable
from integrad.results.generation import GenerationExplanation, GenerationExplanations
from integrad.results.image import ImageExplanation
from integrad.results.multimodal import FeatureScore, MultimodalExplanation
from integrad.results.tabular import TabularExplanation
from integrad.results.text import TextExplanation, TextExplanations

__all__ = [
    "Attribution",
    "FeatureScore",
    "GenerationExplanation",
    "GenerationExplanations",
    "ImageExplanation",
    "MultimodalExplanation",
    "ResultMixin",
    "TabularExplanation",
    "TextExplanation",
    "TextExplanations",
    "jsonable",
]
