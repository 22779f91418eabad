"""Terminal output: colored words, literal text, label, strongest words and delta."""

from rich.console import Console

from integrad.render.colors import NEGATIVE_RGB, signed_rgb
from integrad.render.terminal import colored_text, summary
from integrad.results.text import TextExplanations
from tests.results.conftest import make_explanation


def _render(renderable, color=True):
    console = Console(width=100, force_terminal=color, color_system="truecolor" if color else None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def test_words_keep_the_text_and_get_background_colors(explanation):
    text = colored_text(explanation)
    assert text.plain == "[CLS] Great food, bad service [SEP]"
    styles = {text.plain[span.start : span.end]: span.style for span in text.spans}
    # "bad" is the strongest word: full red background, white text.
    r, g, b = NEGATIVE_RGB
    assert tuple(styles["bad"].bgcolor.triplet) == (r, g, b)
    assert styles["bad"].color.name == "white"
    assert tuple(styles["Great"].bgcolor.triplet) == signed_rgb(1.5, 2.0)
    assert styles["Great"].color.name == "black"
    assert styles["[CLS] "].dim
    out = _render(explanation)
    assert f"\x1b[37;48;2;{r};{g};{b}mbad" in out  # truecolor background escape


def test_markup_like_text_is_printed_as_written():
    e = make_explanation(
        text="[bold]x[/bold] ok",
        words=("[bold]x[/bold]", "ok"),
        word_scores=(1.0, -1.0),
        word_spans=((0, 14), (15, 17)),
        tokens=("[CLS]", "tok", "ok", "[SEP]"),
        token_ids=(2, 5, 6, 3),
        token_scores=(0.0, 1.0, -1.0, 0.0),
        special_tokens=(True, False, False, True),
        token_words=(None, 0, 1, None),
    )
    assert "[bold]x[/bold] ok" in _render(e, color=False)


def test_summary_names_label_probability_strongest_words_and_delta(explanation):
    text = summary(explanation).plain
    assert text.startswith("POSITIVE (p = 0.700)   explaining the logit of POSITIVE")
    assert "toward POSITIVE: Great +1.5, food +0.75, service +0.2" in text
    assert "against POSITIVE: bad -2" in text
    assert (
        'toward POSITIVE: "," +0.05'
        in summary(make_explanation(word_scores=(0, 0, 0.05, 0, 0))).plain
    )
    assert "F(x) - F(x') = 1 - 0.4; delta 0 (gausslegendre, 50 evaluations, baseline pad)" in text
    negative_base = summary(make_explanation(baseline_output=-0.4)).plain
    assert "F(x) - F(x') = 1 - (-0.4)" in negative_base
    assert "truncated" not in text
    assert "truncated" in summary(make_explanation(truncated=True)).plain


def test_several_explanations_are_separated(explanation):
    out = _render(TextExplanations((explanation, explanation)), color=False)
    assert out.count("POSITIVE (p = 0.700)") == 2
    assert "\n\n" in out


def test_adaptive_results_show_their_error_estimate():
    adaptive = make_explanation(method="adaptive", n_evals=65, error_estimate=3.14e-5)
    assert "(adaptive, 65 evaluations, estimated error 3.1e-05, baseline pad)" in (
        summary(adaptive).plain
    )
    assert "estimated error" not in summary(make_explanation()).plain


def test_a_repeated_word_is_told_apart_by_its_occurrence():
    e = make_explanation(
        text="good good bad",
        tokens=("[CLS]", "good", "good", "bad", "[SEP]"),
        token_ids=(2, 10, 10, 11, 3),
        token_scores=(0.0, 0.5, 0.2, -1.0, 0.0),
        special_tokens=(True, False, False, False, True),
        token_words=(None, 0, 1, 2, None),
        words=("good", "good", "bad"),
        word_scores=(0.5, 0.2, -1.0),
        word_spans=((0, 4), (5, 9), (10, 13)),
    )
    assert "toward POSITIVE: good (1st) +0.5, good (2nd) +0.2" in summary(e).plain
    assert "against POSITIVE: bad -1" in summary(e).plain
