"""Fixtures shared with the result and adapter tests (a hand-made explanation, tiny BERT)."""

from tests.adapters.conftest import tiny_tokenizer
from tests.results.conftest import explanation

__all__ = ["explanation", "tiny_tokenizer"]
