"""Bar charts of word scores."""

import pytest

from integrad.errors import InputError
from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB
from integrad.render.plot import MAX_PLOTS, plot_many, plot_word_scores
from tests.results.conftest import make_explanation


def test_one_bar_per_word_colored_by_sign_in_reading_order(explanation, tmp_path):
    fig = plot_word_scores(explanation)
    (ax,) = fig.axes
    bars = ax.patches
    assert [round(b.get_width(), 6) for b in bars] == list(explanation.word_scores)
    green, red = (tuple(c / 255 for c in rgb) for rgb in (POSITIVE_RGB, NEGATIVE_RGB))
    colors = [c for b in bars for c in b.get_facecolor()[:3]]
    assert colors == pytest.approx([*green, *green, *green, *red, *green])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(explanation.words)
    assert ax.yaxis_inverted()  # first word on top
    assert "POSITIVE (p = 0.700)" in ax.get_title(loc="left")
    assert ax.get_xlabel() == "contribution to the logit of POSITIVE"
    path = tmp_path / "words.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dollar_signs_stay_literal(tmp_path):
    e = make_explanation(words=("$x$", "food", ",", "bad", "$"))
    fig = e.plot()
    assert fig.axes[0].get_yticklabels()[0].get_text() == "$x$"
    fig.savefig(tmp_path / "dollars.png")  # mathtext would fail or render an italic x


def test_plot_many_stacks_one_chart_per_text_and_has_a_limit():
    fig = plot_many([make_explanation(), make_explanation(model_name="b")])
    assert len(fig.axes) == 2
    with pytest.raises(InputError, match=rf"at most {MAX_PLOTS} fit"):
        plot_many([make_explanation()] * (MAX_PLOTS + 1))
    with pytest.raises(InputError, match=r"nothing to plot"):
        plot_many([])
