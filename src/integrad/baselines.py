"""The one catalogue of named baselines, for every kind of input, kept as a registry.

A baseline is the input that stands for "no information"; IG explains F(x) - F(baseline),
so the choice changes the question being answered. Each entry maps a name to a function
``fn(x, context) -> tensor`` and says which data it suits:

- ``"image"`` and ``"tabular"`` baselines return a tensor shaped like ``x``;
- ``"text"`` baselines (text classifiers and language models) get the token ids ``x``
  (batch, seq) and a :class:`BaselineContext` with the tokenizer, the tokens to keep
  (special tokens) and the embedding module; they return token ids (an integer tensor,
  shaped like ``x``) or embeddings (a float tensor, (batch, seq, hidden)).

Adding one is one :func:`register_baseline` call; the tests, the command line and the
explain functions all read :func:`list_baselines`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from integrad.errors import BaselineError

if TYPE_CHECKING:  # torch loads when a baseline is made, so the CLI can list them without it
    import torch

#: The kinds of data a baseline can suit; ``"any"`` suits every one.
DATA = ("image", "tabular", "text", "any")


@dataclass(frozen=True)
class BaselineContext:
    """What a baseline function may use besides the input.

    Attributes:
        low: The darkest value an image can take (black), in the input's units.
        high: The brightest value an image can take (white).
        blur_sigma: Standard deviation of the blur in pixels; None picks
            :func:`integrad.modalities.blur.default_sigma`.
        seed: Seed of random baselines, so the same call gives the same baseline.
        background: Reference rows (M, *shape) for data-driven baselines (mean, median).
        tokenizer: For text: the tokenizer (its special token ids).
        keep: For text: True where a token stays as it is in the baseline (special tokens,
            padding), (batch, seq).
        embedding: For text: the input embedding module, for baselines in its space.
        choose: For text: returns the name of the most neutral baseline for the model at
            hand (given by :func:`integrad.explain`, which ranks the candidates).
    """

    low: float = 0.0
    high: float = 1.0
    blur_sigma: float | None = None
    seed: int = 0
    background: torch.Tensor | None = None
    tokenizer: Any = None
    keep: torch.Tensor | None = None
    embedding: Any = None
    choose: Callable[[], str] | None = None


BaselineFn = Callable[["torch.Tensor", BaselineContext], "torch.Tensor"]


@dataclass(frozen=True)
class BaselineKind:
    """One registry entry: the function, the data it suits, and what it means."""

    fn: BaselineFn
    data: str
    description: str


def _black(x: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    return x.new_full(x.shape, ctx.low)


def _white(x: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    return x.new_full(x.shape, ctx.high)


def _blur(x: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    if x.dim() != 4:
        raise BaselineError(
            f"the blur baseline needs images shaped (N, C, H, W); got shape {tuple(x.shape)}"
        )
    from integrad.modalities.blur import default_sigma, gaussian_blur

    sigma = default_sigma(x) if ctx.blur_sigma is None else ctx.blur_sigma
    return gaussian_blur(x, sigma)


def _uniform(x: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    import torch

    # A generator of its own keeps the global random state untouched and the result seeded.
    gen = torch.Generator(device="cpu").manual_seed(ctx.seed)
    noise = torch.rand(x.shape, generator=gen, dtype=torch.float64)
    return (ctx.low + (ctx.high - ctx.low) * noise).to(device=x.device, dtype=x.dtype)


def _background(x: torch.Tensor, ctx: BaselineContext, name: str) -> torch.Tensor:
    if ctx.background is None or ctx.background.shape[0] < 2:
        raise BaselineError(
            f"the {name!r} baseline summarises background rows, but "
            f"{'none were' if ctx.background is None else 'only one was'} given: the {name} of "
            "one row is the row itself and would explain nothing. Pass background=<training "
            "rows> (a DataFrame or array with the same columns)"
        )
    if ctx.background.shape[1:] != x.shape[1:]:
        raise BaselineError(
            f"background rows have shape {tuple(ctx.background.shape[1:])} but the inputs have "
            f"{tuple(x.shape[1:])}; give background rows with the same columns"
        )
    bg = ctx.background.to(device=x.device, dtype=x.dtype)
    # The median interpolates between the two middle rows of an even count (as pandas does).
    summary = bg.mean(0) if name == "mean" else bg.quantile(0.5, dim=0)
    return summary.expand_as(x).clone()


def _token(attribute: str) -> BaselineFn:
    """Every token that is not kept replaced by the tokenizer's ``attribute`` token."""

    def fn(ids: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
        token = getattr(ctx.tokenizer, attribute, None)
        if token is None:
            name = attribute.removesuffix("_token_id")
            others = [b for b in list_baselines("text") if _has_token(b, ctx.tokenizer)]
            raise BaselineError(
                f"baseline {name!r} needs a {name} token, but the tokenizer has none; choose one "
                f"of {', '.join(others)}, a baseline text, or token ids"
            )
        return ids.where(_kept(ids, ctx), ids.new_full(ids.shape, token))

    return fn


def _kept(ids: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    return ids.new_zeros(ids.shape).bool() if ctx.keep is None else ctx.keep.bool()


def _has_token(name: str, tokenizer: Any) -> bool:
    attribute = TOKEN_ATTRIBUTES.get(name)
    return attribute is None or getattr(tokenizer, attribute, None) is not None


def _zero_embeddings(ids: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    if ctx.embedding is None:
        raise BaselineError("the zero baseline needs the model's input embedding module")
    embedded = ctx.embedding(ids).detach()  # (batch, seq, hidden)
    return embedded * _kept(ids, ctx)[..., None].to(embedded.dtype)


def _neutral(ids: torch.Tensor, ctx: BaselineContext) -> torch.Tensor:
    if ctx.choose is None:
        raise BaselineError(
            "the neutral baseline is chosen per model, as the candidate a classifier reads as "
            "closest to uniform: integrad.explain chooses it; elsewhere name a baseline"
        )
    return make_baseline(ctx.choose(), ids, ctx, "text")


#: Text baselines that replace tokens, and the tokenizer attribute holding each one's id.
TOKEN_ATTRIBUTES = {
    "pad": "pad_token_id",
    "mask": "mask_token_id",
    "unk": "unk_token_id",
    "eos": "eos_token_id",
}

_BASELINES: dict[str, BaselineKind] = {
    **{
        name: BaselineKind(
            _token(attribute), "text", f"every token but the special ones replaced by {name}"
        )
        for name, attribute in TOKEN_ATTRIBUTES.items()
    },
    "zero": BaselineKind(
        _zero_embeddings, "text", "zero embedding vectors; special tokens kept as they are"
    ),
    "neutral": BaselineKind(
        _neutral,
        "text",
        "for classifiers: whichever of the others the model reads as closest to "
        "uniform (chosen once per model)",
    ),
    "black": BaselineKind(_black, "image", "every pixel at the darkest value"),
    "white": BaselineKind(_white, "image", "every pixel at the brightest value"),
    "blur": BaselineKind(_blur, "image", "the input Gaussian-blurred: fine detail removed"),
    "uniform": BaselineKind(_uniform, "image", "seeded uniform noise between low and high"),
    "mean": BaselineKind(
        lambda x, ctx: _background(x, ctx, "mean"), "tabular", "each column's background mean"
    ),
    "median": BaselineKind(
        lambda x, ctx: _background(x, ctx, "median"),
        "tabular",
        "each column's background median",
    ),
    "zeros": BaselineKind(lambda x, ctx: x.new_zeros(x.shape), "any", "every value zero"),
}


def register_baseline(
    name: str, fn: BaselineFn, *, data: str = "any", description: str = "", overwrite: bool = False
) -> None:
    """Add a named baseline.

    Args:
        name: The name users pass as ``baseline=``.
        fn: ``fn(x, context) -> tensor`` shaped like ``x``; ``context`` is a
            :class:`BaselineContext`.
        data: ``"image"``, ``"tabular"``, ``"text"`` or ``"any"``: which explain functions
            offer it.
        description: One line saying what the baseline stands for.
        overwrite: Replace an existing baseline of that name instead of refusing.

    Example:
        >>> register_baseline("gray", lambda x, ctx: torch.full_like(x, 0.5), data="image")
    """
    if data not in DATA:
        raise BaselineError(f"data must be one of {', '.join(DATA)}, got {data!r}")
    if name in _BASELINES and not overwrite:
        raise BaselineError(f"a baseline named {name!r} exists; pass overwrite=True to replace it")
    _BASELINES[name] = BaselineKind(fn, data, description)


def list_baselines(data: str | None = None) -> list[str]:
    """Names of the registered baselines, all or those that suit ``data`` (image, tabular,
    text); ``"any"`` baselines suit every kind but text (they work on input values)."""
    return [
        n
        for n, k in _BASELINES.items()
        if data is None or k.data == data or (k.data == "any" and data != "text")
    ]


def describe_baseline(name: str) -> str:
    """The one-line description of a registered baseline."""
    return _BASELINES[name].description


_OTHER_FORMS = {
    "text": "a baseline text or token ids",
    "image": "a tensor (or a list of baselines to average over)",
    "tabular": "a baseline row or background rows",
}


def make_baseline(name: str, x: torch.Tensor, context: BaselineContext, data: str) -> torch.Tensor:
    """The baseline ``name`` for inputs ``x``, checked to have the input's shape and dtype.

    Example:
        >>> make_baseline("white", torch.zeros(1, 3, 2, 2), BaselineContext(), "image").max()
        tensor(1.)
    """
    import torch

    valid = list_baselines(data)
    if name not in valid:
        raise BaselineError(
            f"unknown {data} baseline {name!r}; choose one of {', '.join(valid)}, or "
            f"{_OTHER_FORMS.get(data, 'pass a tensor')}"
        )
    baseline = _BASELINES[name].fn(x, context)
    if data == "text":
        ok = isinstance(baseline, torch.Tensor) and (
            baseline.shape == x.shape
            if not baseline.is_floating_point()
            else baseline.shape[:2] == x.shape
        )
        expected = f"token ids shaped {tuple(x.shape)} or embeddings (batch, seq, hidden)"
    else:
        ok = isinstance(baseline, torch.Tensor) and baseline.shape == x.shape
        expected = f"a tensor shaped like the input {tuple(x.shape)}"
    if not ok:
        got = tuple(baseline.shape) if isinstance(baseline, torch.Tensor) else type(baseline)
        raise BaselineError(
            f"baseline {name!r} returned {got}, expected {expected}; fix the function given "
            "to register_baseline"
        )
    return baseline if data == "text" else baseline.to(dtype=x.dtype)
