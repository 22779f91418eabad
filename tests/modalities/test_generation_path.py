"""F along the path of a generation explanation, forward passes only."""

import numpy as np
import pytest
from matplotlib.figure import Figure

import integrad
from integrad.errors import InputError
from tests.modalities.test_generation import FAST, PROMPT, make_llama, make_tokenizer


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
    _, tok, e = setup
    assert e.baseline_ids is not None and len(e.baseline_ids) == len(e.context_ids)
    for c, (real, base) in enumerate(zip(e.context_ids, e.baseline_ids, strict=True)):
        assert base == (real if e.special[c] else tok.pad_token_id)


def test_plot_path_and_its_errors(setup):
    model, tok, e = setup
    fig = e.plot_path(model, row=1, n_points=5)
    assert isinstance(fig, Figure)
    assert "of the change" in fig.axes[0].get_title(loc="left")
    with pytest.raises(InputError, match="row 3 is out of range"):
        e.path(model, 3)
    with pytest.raises(InputError, match="n_points must be an int of at least 2"):
        e.path(model, 0, n_points=1)
    zero = integrad.explain_generation(
        model, PROMPT, tokenizer=tok, target="the", baseline="zero", **FAST
    )
    with pytest.raises(InputError, match="is not made of tokens"):
        zero.path(model)
