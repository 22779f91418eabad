"""Hand-made text explanations for result and rendering tests (no model needed)."""

from __future__ import annotations

from typing import Any

import pytest

from integrad.options import Options
from integrad.results.text import TextExplanation


def make_explanation(**overrides: Any) -> TextExplanation:
    """ "Great food, bad service" with "food" split into two subwords; fields overridable."""
    values: dict[str, Any] = {
        "text": "Great food, bad service",
        "tokens": ("[CLS]", "great", "fo", "##od", ",", "bad", "service", "[SEP]"),
        "token_ids": (2, 10, 11, 12, 13, 14, 15, 3),
        "token_scores": (0.0, 1.5, 0.25, 0.5, 0.05, -2.0, 0.2, 0.1),
        "special_tokens": (True, False, False, False, False, False, False, True),
        "token_words": (None, 0, 1, 1, 2, 3, 4, None),
        "words": ("Great", "food", ",", "bad", "service"),
        "word_scores": (1.5, 0.75, 0.05, -2.0, 0.2),
        "word_spans": ((0, 5), (6, 10), (10, 11), (12, 15), (16, 23)),
        "labels": ("NEGATIVE", "POSITIVE"),
        "probabilities": (0.3, 0.7),
        "predicted": 1,
        "target": 1,
        "output": 1.0,
        "baseline_output": 0.4,
        "delta": 0.0,
        "n_evals": 50,
        "baseline": "pad",
        "model_name": "tiny-test-model",
    }
    settings = {k: overrides.pop(k) for k in Options.names() if k in overrides}
    values.update(overrides)
    return TextExplanation(**values, options=Options(**settings).resolved())


@pytest.fixture
def explanation() -> TextExplanation:
    return make_explanation()
