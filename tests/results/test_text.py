"""TextExplanation and TextExplanations: derived values, plain data and the JSON round trip."""

import json

import pytest

from integrad.errors import InputError
from integrad.results.text import TextExplanation, TextExplanations
from tests.results.conftest import make_explanation


def test_labels_totals_and_top_words(explanation):
    assert explanation.predicted_label == "POSITIVE"
    assert explanation.target_label == "POSITIVE"
    assert explanation.total == pytest.approx(0.6)
    assert explanation.special_score == pytest.approx(0.1)
    assert explanation.top_word() == "Great"
    assert explanation.top_word(-1) == "bad"
    no_words = make_explanation(words=(), word_scores=(), word_spans=())
    with pytest.raises(InputError, match=r"has no words"):
        no_words.top_word()


def test_to_dict_is_plain_data_with_label_names(explanation):
    data = explanation.to_dict()
    assert data["predicted_label"] == "POSITIVE" and data["target_label"] == "POSITIVE"
    assert data["word_spans"] == [[0, 5], [6, 10], [10, 11], [12, 15], [16, 23]]
    assert data["token_words"][0] is None
    json.dumps(data)  # plain data only


def test_json_round_trip_gives_an_equal_explanation():
    e = make_explanation(truncated=True, error_estimate=2e-4, tol=1e-3)
    again = TextExplanation.from_json(e.to_json())
    assert again == e
    assert isinstance(again.word_spans[0], tuple) and isinstance(again.tokens, tuple)
    assert again.options.method == "adaptive" and again.options.tol == 1e-3
    assert again != make_explanation(truncated=True, error_estimate=2e-4, tol=1e-4)


def test_from_dict_names_missing_fields(explanation):
    data = explanation.to_dict()
    del data["words"], data["delta"]
    with pytest.raises(InputError, match=r"missing \['delta', 'words'\]"):
        TextExplanation.from_dict(data)


def test_list_container_is_a_sequence_with_a_round_trip():
    items = TextExplanations((make_explanation(), make_explanation(model_name="second")))
    assert len(items) == 2 and items[1].model_name == "second"
    assert [e.text for e in items] == [items[0].text, items[1].text]
    assert TextExplanations.from_json(items.to_json()) == items
    assert items.to_html().count('class="integrad-text"') == 2
