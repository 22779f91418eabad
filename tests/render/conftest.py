"""Fixtures shared with the result tests (a hand-made explanation)."""

from tests.results.conftest import explanation

__all__ = ["explanation"]
