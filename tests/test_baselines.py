"""The baseline catalogue: every kind's shape, meaning and errors."""

import pytest
import torch

from integrad import baselines as catalogue
from integrad.baselines import (
    BaselineContext,
    list_baselines,
    make_baseline,
    register_baseline,
)
from integrad.errors import BaselineError


def high_frequency_energy(images: torch.Tensor) -> float:
    """Energy of the discrete Laplacian: large for sharp detail, zero for flat images."""
    lap = (
        4 * images[..., 1:-1, 1:-1]
        - images[..., :-2, 1:-1]
        - images[..., 2:, 1:-1]
        - images[..., 1:-1, :-2]
        - images[..., 1:-1, 2:]
    )
    return float((lap**2).sum())


@pytest.mark.parametrize("name", list_baselines("image"))
def test_every_image_baseline_has_the_input_shape_and_dtype(name):
    x = torch.rand(2, 3, 9, 7)
    base = make_baseline(name, x, BaselineContext(), "image")
    assert base.shape == x.shape and base.dtype == x.dtype
    assert torch.isfinite(base).all()


@pytest.mark.parametrize("name", list_baselines("tabular"))
def test_every_tabular_baseline_has_the_input_shape(name):
    x = torch.randn(3, 5, dtype=torch.float64)
    base = make_baseline(name, x, BaselineContext(background=torch.randn(10, 5)), "tabular")
    assert base.shape == x.shape and base.dtype == x.dtype


def test_black_and_white_follow_the_value_range():
    x = torch.rand(1, 3, 4, 4)
    ctx = BaselineContext(low=-2.0, high=3.0)
    assert (make_baseline("black", x, ctx, "image") == -2.0).all()
    assert (make_baseline("white", x, ctx, "image") == 3.0).all()


def test_blur_baseline_really_is_blurred():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16)
    blurred = make_baseline("blur", x, BaselineContext(blur_sigma=2.0), "image")
    assert high_frequency_energy(blurred) < 0.05 * high_frequency_energy(x)
    # Blurring moves no brightness in or out: each channel keeps (nearly) its mean.
    torch.testing.assert_close(blurred.mean((2, 3)), x.mean((2, 3)), atol=0.03, rtol=0)


def test_blur_needs_images():
    with pytest.raises(BaselineError, match=r"needs images shaped \(N, C, H, W\)"):
        make_baseline("blur", torch.rand(2, 5), BaselineContext(), "image")


def test_uniform_is_seeded_and_within_range():
    x = torch.zeros(2, 1, 8, 8)
    ctx = BaselineContext(low=0.2, high=0.4, seed=3)
    a, b = (make_baseline("uniform", x, ctx, "image") for _ in range(2))
    assert torch.equal(a, b)
    assert a.min() >= 0.2 and a.max() <= 0.4 and a.std() > 0.03
    other = make_baseline("uniform", x, BaselineContext(low=0.2, high=0.4, seed=4), "image")
    assert not torch.equal(a, other)


def test_mean_and_median_summarise_the_background_per_column():
    background = torch.tensor([[1.0, 10.0], [2.0, 20.0], [6.0, 30.0]])
    x = torch.zeros(2, 2)
    ctx = BaselineContext(background=background)
    assert make_baseline("mean", x, ctx, "tabular").tolist() == [[3.0, 20.0]] * 2
    assert make_baseline("median", x, ctx, "tabular").tolist() == [[2.0, 20.0]] * 2


def test_mean_of_one_row_is_refused():
    ctx = BaselineContext(background=torch.ones(1, 2))
    with pytest.raises(BaselineError, match="only one was given.*background=<training rows>"):
        make_baseline("mean", torch.zeros(1, 2), ctx, "tabular")
    with pytest.raises(BaselineError, match="none were given"):
        make_baseline("median", torch.zeros(1, 2), BaselineContext(), "tabular")


def test_background_with_other_columns_is_refused():
    ctx = BaselineContext(background=torch.ones(4, 3))
    with pytest.raises(BaselineError, match=r"background rows have shape \(3,\).*\(2,\)"):
        make_baseline("mean", torch.zeros(1, 2), ctx, "tabular")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(BaselineError, match="unknown image baseline 'grey'; choose one of black"):
        make_baseline("grey", torch.zeros(1, 1, 2, 2), BaselineContext(), "image")
    # Image-only kinds are not offered for tables.
    with pytest.raises(BaselineError, match="unknown tabular baseline 'blur'"):
        make_baseline("blur", torch.zeros(1, 2), BaselineContext(), "tabular")


def test_registry_adds_lists_and_protects_names(monkeypatch):
    monkeypatch.setattr(catalogue, "_BASELINES", dict(catalogue._BASELINES))
    register_baseline("gray", lambda x, ctx: torch.full_like(x, 0.5), data="image")
    assert "gray" in list_baselines("image") and "gray" not in list_baselines("tabular")
    assert make_baseline("gray", torch.zeros(1, 1, 2, 2), BaselineContext(), "image").sum() == 2
    with pytest.raises(BaselineError, match="a baseline named 'gray' exists; pass overwrite=True"):
        register_baseline("gray", lambda x, ctx: x)
    register_baseline("gray", lambda x, ctx: x[:, :1], data="image", overwrite=True)
    with pytest.raises(BaselineError, match=r"returned \(1, 1, 2, 2\), expected a tensor shaped"):
        make_baseline("gray", torch.zeros(1, 3, 2, 2), BaselineContext(), "image")
    with pytest.raises(BaselineError, match="data must be one of image, tabular, text, any"):
        register_baseline("x", lambda x, ctx: x, data="audio")


@pytest.mark.parametrize("name", list_baselines("text"))
def test_every_text_baseline_keeps_the_special_tokens(name, tiny_tokenizer):
    ids = torch.tensor([[2, 10, 11, 3, 0], [2, 12, 3, 0, 0]])  # [CLS] ... [SEP] [PAD]
    keep = torch.tensor([[1, 0, 0, 1, 1], [1, 0, 1, 1, 1]])
    embedding = torch.nn.Embedding(len(tiny_tokenizer), 4)
    ctx = BaselineContext(tokenizer=tiny_tokenizer, keep=keep, embedding=embedding)
    if name == "eos":  # this BERT tokenizer has none: the error names the ones it has
        with pytest.raises(BaselineError, match=r"needs a eos token.*choose one of pad, mask"):
            make_baseline(name, ids, ctx, "text")
        return
    if name == "neutral":  # chosen per model: only a front end that ranks them can
        with pytest.raises(BaselineError, match=r"integrad.explain chooses it"):
            make_baseline(name, ids, ctx, "text")
        ctx = BaselineContext(tokenizer=tiny_tokenizer, keep=keep, choose=lambda: "mask")
        chosen = make_baseline("neutral", ids, ctx, "text")
        assert torch.equal(chosen, make_baseline("mask", ids, ctx, "text"))
        return
    base = make_baseline(name, ids, ctx, "text")
    if base.is_floating_point():  # embeddings: zero where not kept, the real ones where kept
        assert base.shape == (2, 5, 4)
        with torch.no_grad():
            torch.testing.assert_close(base[keep.bool()], embedding(ids)[keep.bool()])
        assert (base[~keep.bool()] == 0).all()
    else:
        assert torch.equal(base[keep.bool()], ids[keep.bool()])
        token = getattr(tiny_tokenizer, catalogue.TOKEN_ATTRIBUTES[name])
        assert (base[~keep.bool()] == token).all()


def test_the_registry_lists_every_kind_of_data():
    assert list_baselines("text") == ["pad", "mask", "unk", "eos", "zero", "neutral"]
    assert list_baselines("image") == ["black", "white", "blur", "uniform", "zeros"]
    assert list_baselines("tabular") == ["mean", "median", "zeros"]
    assert set(list_baselines()) == set(
        list_baselines("text") + list_baselines("image") + list_baselines("tabular")
    )
