"""F along the path of a generation explanation, forward passes only."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import integrad
from integrad.errors import InputError
from tests.modalities.test_generation import FAST, PROMPT
from tests.tiny_lm import make_llama, make_tokenizer


@pytest.fixture(scope="module")
def setup():
    tok = make_tokenizer()
    model = make_llama(len(tok))
    e = integrad.explain_generation(model, PROMPT, tokenizer=tok, target="the dog ran", **FAST)
    return model, tok, e


def test_the_path_ends_at_the_baseline_and_the_input(setup):
    model, _, e = setup
    for row in range(len(e.generated_tokens)):
        alphas, values = e.path(model, row, n_points=9)
        np.testing.assert_allclose(alphas, np.linspace(0, 1, 9))
        assert values[0] == pytest.approx(e.baseline_output[row], abs=1e-4)
        assert values[-1] == pytest.approx(e.output[row], abs=1e-4)


def test_the_baseline_keeps_special_tokens_and_the_first_position(setup):
    model, tok, e = setup
    assert e.baseline == "zero" and len(e.baseline_ids) == len(e.context_ids)
    for c, (real, base) in enumerate(zip(e.context_ids, e.baseline_ids, strict=True)):
        assert base == (real if e.special[c] else -1)  # -1: a zero vector
    pad = integrad.explain_generation(
        model, "cat sat on", tokenizer=tok, target="the", baseline="pad", **FAST
    )
    assert pad.baseline_ids == tuple(
        real if kept else tok.pad_token_id
        for real, kept in zip(pad.context_ids, pad.special, strict=True)
    )
    _alphas, values = pad.path(model, 0, n_points=3)
    assert values[0] == pytest.approx(pad.baseline_output[0], abs=1e-4)


def test_plot_path_and_its_errors(setup):
    model, _tok, e = setup
    fig = e.plot_path(model, row=1, n_points=5)
    assert isinstance(fig, Figure)
    assert "of the change" in fig.axes[0].get_title(loc="left")
    with pytest.raises(InputError, match="row 3 is out of range"):
        e.path(model, 3)
    with pytest.raises(InputError, match="n_points must be an int of at least 2"):
        e.path(model, 0, n_points=1)
    with pytest.raises(InputError, match="is not made of tokens"):
        e.__class__(**{**e.__dict__, "baseline_ids": None}).path(model)


def test_noise_spread_is_kept_and_unsteady_scores_are_marked(setup):
    from rich.console import Console

    from integrad.render.generation import unsteady

    model, tok, _ = setup
    e = integrad.explain_generation(model, PROMPT, tokenizer=tok, target="the dog", noise=4, **FAST)
    std, scores = np.array(e.std), e.matrix
    assert std.shape == scores.shape and (std[:, 1:] > 0).any()
    marked = [(j, c) for j in range(2) for c in range(e.n_visible[j]) if unsteady(e, j, c)]
    assert marked == [
        (j, c) for j in range(2) for c in range(e.n_visible[j]) if std[j, c] > abs(scores[j, c])
    ]
    assert marked  # a random model's small scores: noise moves some more than their size
    html = e.to_html()
    assert html.count("2px dotted") == len(marked) and "\u00b1" in html
    console = Console(record=True, width=200)
    console.print(e)
    shown = console.export_text()
    assert "spread across the noisy samples" in shown
    # rank stability per generated token, from the samples the result does not keep
    assert len(e.stability) == 2 and all(-1 <= s <= 1 for s in e.stability)
    assert "stability" in html and "stable" in shown
    for j, value in enumerate(e.stability):
        assert f"{value:.2f}" in shown.splitlines()[1 + j + 1]
    assert integrad.GenerationExplanation.from_json(e.to_json()).stability == e.stability
    tiny = integrad.Noise(n_samples=4, level=1e-6)
    calm = integrad.explain_generation(
        model, PROMPT, tokenizer=tok, target="the dog", noise=tiny, **FAST
    )
    assert min(calm.stability) > 0.99 and min(calm.stability) > min(e.stability)
    plain = integrad.explain_generation(model, PROMPT, tokenizer=tok, target="the dog", **FAST)
    assert plain.stability is None and "stability" not in plain.to_html()


def test_a_delta_above_five_percent_of_the_change_is_marked(setup):
    import dataclasses

    from rich.console import Console

    _, _, e = setup
    marked = "color: #b91c1c; font-weight: bold"
    exact = dataclasses.replace(e, delta=(0.0, 0.0, 0.0))
    assert marked not in exact.to_html()  # no error: nothing marked
    change = e.output[1] - e.baseline_output[1]
    off = dataclasses.replace(e, delta=(0.0, 0.2 * change, 0.0))
    html = off.to_html()
    assert html.count(marked) == 1 and "20.0% of the change" in html
    console = Console(record=True, width=200, color_system="truecolor")
    console.print(off)
    assert "bold red" not in console.export_text(clear=False)  # styles, not text
    assert "\x1b[1;31m" in console.export_text(styles=True)
