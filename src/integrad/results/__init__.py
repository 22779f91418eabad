"""Result objects: frozen dataclasses that carry attributions and how they were made."""

from integrad.results.attribution import Attribution
from integrad.results.base import ResultMixin, jsonable
from integrad.results.text import TextExplanation, TextExplanations

__all__ = [
    "Attribution",
    "ResultMixin",
    "TextExplanation",
    "TextExplanations",
    "jsonable",
]
