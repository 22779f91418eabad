"""HTML of text explanations: escaping, colors, legend and the numbers a reader needs."""

from html.parser import HTMLParser

import integrad
from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB, css_rgb, signed_rgb
from integrad.render.text_html import explanation_html
from tests.results.conftest import make_explanation
from tests.tiny_bert import make_bert

ATTACK = "<img src=x onerror=alert(1)>"
# Exactly what the renderer writes: any other tag or attribute came from the text.
OWN_TAGS = {"div", "span", "b"}
OWN_ATTRIBUTES = {"class", "style", "title", "data-score"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data):
        self.text.append(data)


def _parse(html):
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser


def test_markup_in_words_tokens_labels_and_model_name_renders_as_text():
    e = make_explanation(
        text=f"{ATTACK} ok",
        tokens=("[CLS]", ATTACK, "ok", "</div><script>x()</script>"),
        token_ids=(2, 10, 11, 3),
        token_scores=(0.0, 1.0, -0.5, 0.0),
        special_tokens=(False, False, False, True),
        token_words=(None, 0, 1, None),
        words=(ATTACK, "ok"),
        word_scores=(1.0, -0.5),
        word_spans=((0, len(ATTACK)), (len(ATTACK) + 1, len(ATTACK) + 3)),
        labels=("<b>NEG</b>", 'POS" onmouseover="alert(2)'),
        model_name="<script>alert(3)</script>",
    )
    parsed = _parse(e.to_html())
    assert set(parsed.tags) <= OWN_TAGS
    assert parsed.attributes <= OWN_ATTRIBUTES
    text = "".join(parsed.text)
    for literal in (ATTACK, "<b>NEG</b>", "<script>alert(3)</script>", "</div><script>x()"):
        assert literal in text


def test_text_from_a_real_model_is_escaped_end_to_end(tiny_tokenizer):
    model = make_bert(labels=("<i>bad</i>", 'good" onclick="alert(1)'))
    e = integrad.explain(model, f"great {ATTACK} food", tokenizer=tiny_tokenizer)
    parsed = _parse(e.to_html())
    assert set(parsed.tags) <= OWN_TAGS and parsed.attributes <= OWN_ATTRIBUTES
    assert f"great {ATTACK} food" in "".join(parsed.text)


def test_words_are_colored_by_sign_and_strongest_is_saturated(explanation):
    html = explanation_html(explanation)
    # "bad" (-2.0) has the largest magnitude: full red; "Great" (+1.5) is a lighter green.
    assert f'background: {css_rgb(NEGATIVE_RGB)}; color: #fff">bad</span>' in html
    assert 'title="Great: +1.5"' in html
    assert f'background: {css_rgb(signed_rgb(1.5, 2.0))}; color: #000">Great</span>' in html
    assert css_rgb(signed_rgb(1.5, 2.0)) != css_rgb(POSITIVE_RGB)
    # Subwords are shown as the word, and the text between words is kept.
    assert ">food</span>,</span>" not in html and ">food</span><span" in html
    assert "</span> <span" in html


def test_header_and_footer_give_labels_probability_and_delta(explanation):
    parsed = _parse(explanation_html(explanation))
    text = " ".join(parsed.text)
    assert "POSITIVE" in text and "(p = 0.700)" in text
    assert "explaining the logit of" in text
    assert "completeness delta 0" in text and "baseline pad" in text
    assert "toward POSITIVE" in text and "against POSITIVE" in text
    assert "NEGATIVE 0.300" in text
    assert "not explained" not in text


def test_truncated_text_marks_the_unexplained_end():
    e = make_explanation(text="Great food, bad service and more", truncated=True)
    html = explanation_html(e)
    assert 'title="not explained"> and more</span>' in html
    assert "cut off and is not explained" in html


def test_special_tokens_are_shown_and_marked(explanation):
    html = explanation_html(explanation)
    assert 'title="special token [CLS]: +0"' in html
    assert 'title="special token [SEP]: +0.1"' in html
    assert "dashed" in html


def test_footer_names_the_rule_and_the_adaptive_error_estimate():
    adaptive = explanation_html(
        make_explanation(method="adaptive", n_evals=65, error_estimate=3.14e-5)
    )
    assert "adaptive, 65 evaluations, estimated error 3.1e-05</div>" in adaptive
    fixed = explanation_html(make_explanation())
    assert "gausslegendre, 50 evaluations</div>" in fixed and "estimated error" not in fixed
