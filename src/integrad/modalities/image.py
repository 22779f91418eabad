"""Explain image classifiers: pixels in, a per-pixel map out.

``explain_image`` takes any torch classifier over (N, C, H, W) floats and an image given as
a tensor, or as PIL images / HWC uint8 arrays with a preprocessing callable. Named
baselines are built where they mean what they say: for raw images in pixel space (black is
pixel value 0, before any normalisation), for tensors between ``value_range``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from integrad.baselines import BaselineContext, make_baseline
from integrad.compat.keras import image_model
from integrad.errors import BaselineError
from integrad.modalities import blur
from integrad.modalities.image_inputs import RawImages, prepare_images
from integrad.options import Options
from integrad.pipeline import BaselineSet, Batch, Scores, attribute_batch, repeat_target
from integrad.results.image import ImageExplanation

Baseline = str | torch.Tensor | Sequence[str | torch.Tensor] | None


def explain_image(
    model: Callable[..., Any],
    image: Any,
    *,
    target: Any = None,
    baseline: Baseline = None,
    labels: Sequence[str] | None = None,
    preprocess: Callable[[Any], torch.Tensor] | None = None,
    path: str = "straight",
    blur_sigma: float | None = None,
    blur_segments: int = 10,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
    **settings: Any,
) -> ImageExplanation:
    """Explain an image classifier's prediction pixel by pixel.

    Args:
        model: A torch classifier taking (N, C, H, W) floats and returning (N, classes); a
            channels-last Keras 3 model (``KERAS_BACKEND=torch``) is given (N, H, W, C).
        image: A float tensor (C, H, W) or (N, C, H, W); or a PIL image, an HWC (or HW)
            uint8 array, or a list of them, turned into tensors by ``preprocess``.
        target: None or ``"predicted"`` (the top class), a class index, a label from
            ``labels``, one per image, or a callable on the output.
        baseline: ``"black"`` (default), ``"white"``, ``"blur"``, ``"uniform"`` (seeded noise),
            any name from :func:`integrad.adapters.baselines.list_baselines`, a tensor, or a
            list of these (or a stacked (K, C, H, W) tensor): the attributions are averaged
            over them (expected-gradients style) and their spread is reported.
        labels: Class names, for targets by name and for display.
        preprocess: Raw image -> (C, H, W) or (1, C, H, W) float tensor (resize, normalise).
            Default: pixel values / 255. Named baselines are built on the raw image and go
            through it too.
        path: ``"straight"`` (IG from the baseline) or ``"blur"`` (Blur IG, Xu et al. 2020:
            from a heavily blurred copy through ever less blurred ones; no baseline).
        blur_sigma: Blur in pixels of the ``"blur"`` baseline (default: an eighth of the
            larger image side), or of the start of the blur path (default: a quarter).
        blur_segments: Straight segments approximating the blur path; the ``n_steps`` points
            are shared among them.
        value_range: Darkest and brightest values of a tensor image (black and white).
        seed: Seed of the ``"uniform"`` baseline (and the next seeds for repeats of it).
        **settings: Integration settings (``method``, ``n_steps``, ``tol``, ``noise``,
            ``score``, ...): see :class:`integrad.Options`. With ``noise``, the standard
            deviation across samples is reported as ``std`` and ``pixel_std``.

    Returns:
        An :class:`~integrad.results.image.ImageExplanation`.

    Example:
        >>> import torch, integrad
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
        >>> exp = integrad.explain_image(net, torch.rand(3, 2, 2), baseline="black")
        >>> exp.pixel_map.shape
        torch.Size([1, 2, 2])
    """
    options = Options.from_settings(settings, function="explain_image()")
    images = prepare_images(image, preprocess)
    x = images.tensor
    batch = Batch(image_model(model), {"image": x}, positional=True, labels=labels)
    if path == "straight":
        described, sets = _baseline_sets(baseline, images, blur_sigma, value_range, seed)
        res = attribute_batch(batch, sets, target, options)
    elif path == "blur":
        if baseline is not None:
            raise BaselineError(
                "Blur IG needs no baseline (the path starts from a blurred copy of the "
                "image); drop baseline=, or use path='straight' with baseline='blur'"
            )
        sigma = blur.default_path_sigma(x) if blur_sigma is None else blur_sigma
        described = f"blurred with sigma={sigma:g} px, {blur_segments} segments"
        res = _blur_ig(batch, target, sigma, blur_segments, options)
    else:
        raise BaselineError(f"unknown path {path!r}; choose 'straight' or 'blur'")
    attributions = res.scores["image"]
    std = None if res.std is None else res.std["image"]
    pixel_std = None
    if res.samples is not None:  # each sample's pixel map, then the exact spread
        pixel_std = res.samples["image"].sum(2).std(1, unbiased=False)
    per_set = res.per_set["image"]  # (S, N, C, H, W): one per averaged baseline
    pixel_spread = None if per_set.shape[0] == 1 else per_set.sum(2).std(0, unbiased=False)
    return ImageExplanation(
        **res.batch_fields(labels),
        attributions=attributions,
        pixel_map=attributions.sum(1),
        images=images.display,
        baseline=described,
        path=path,
        std=std,
        pixel_std=pixel_std,
        pixel_spread=pixel_spread,
    )


def _baseline_sets(
    baseline: Baseline,
    images: RawImages,
    blur_sigma: float | None,
    value_range: tuple[float, float],
    seed: int,
) -> tuple[str, list[BaselineSet]]:
    """One baseline set per baseline to average over, and a description of them."""
    x = images.tensor
    if baseline is None:
        specs: list[Any] = ["black"]
    elif isinstance(baseline, torch.Tensor) and _is_stack(baseline, x):
        specs = list(baseline.unbind(0))
    elif isinstance(baseline, (list, tuple)):
        specs = list(baseline)
    else:
        specs = [baseline]
    if not specs:
        raise BaselineError("baseline is an empty list; give at least one baseline")
    tensors, names = [], []
    for i, spec in enumerate(specs):
        if isinstance(spec, str):
            # Repeats of a random baseline get their own seeds, so they are distinct samples.
            repeats = sum(1 for s in specs if isinstance(s, str) and s == spec)
            ctx_seed = seed + sum(1 for s in specs[:i] if isinstance(s, str) and s == spec)
            tensors.append(_named(spec, images, blur_sigma, value_range, ctx_seed))
            names.append(spec if repeats == 1 else f"{spec} (seed {ctx_seed})")
        elif isinstance(spec, torch.Tensor):
            tensors.append(_given(spec, x))
            names.append("tensor")
        else:
            raise BaselineError(
                f"a baseline must be a name, a tensor or a list of them; got {type(spec).__name__}"
            )
    described = names[0] if len(names) == 1 else f"mean of {len(names)}: {', '.join(names)}"
    return described, [BaselineSet({"image": b}, {}) for b in tensors]


def _is_stack(baseline: torch.Tensor, x: torch.Tensor) -> bool:
    """A (K, N|1, C, H, W) tensor, or a (K, C, H, W) one whose K cannot mean one per example."""
    if baseline.dim() == x.dim() + 1:
        return True
    return baseline.dim() == x.dim() and baseline.shape[0] not in (1, x.shape[0])


def _given(spec: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if not spec.is_floating_point():
        raise BaselineError(
            f"a baseline tensor has dtype {spec.dtype}; give float values in the same units as "
            "the image tensor (e.g. baseline.float() / 255 if the model takes [0, 1] pixels)"
        )
    try:
        return spec.to(x.device, x.dtype).expand_as(x).clone()
    except RuntimeError:
        raise BaselineError(
            f"a baseline has shape {tuple(spec.shape)}, which does not match the images "
            f"{tuple(x.shape)}; give (C, H, W) for all images, (N, C, H, W) for one each, or a "
            "list / stacked (K, C, H, W) tensor of baselines to average over"
        ) from None


def _named(
    name: str, images: RawImages, sigma: float | None, value_range: tuple[float, float], seed: int
) -> torch.Tensor:
    if images.raw is None:
        ctx = BaselineContext(low=value_range[0], high=value_range[1], blur_sigma=sigma, seed=seed)
        return make_baseline(name, images.tensor, ctx, "image")
    # Raw images: build the baseline in pixel space (0..255) and preprocess it like the image.
    ctx = BaselineContext(low=0.0, high=255.0, blur_sigma=sigma, seed=seed)
    rows = []
    for raw in images.raw:
        pixels = torch.from_numpy(np.array(raw)).double()
        pixels = pixels[None, None] if pixels.dim() == 2 else pixels.permute(2, 0, 1)[None]
        base = make_baseline(name, pixels, ctx, "image")[0]  # (C, H, W) in 0..255
        base = base.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        rows.append(images.preprocess_like(base.squeeze(-1) if raw.ndim == 2 else base))
    return torch.cat(rows).to(images.tensor.dtype)


def _blur_ig(batch: Batch, target: Any, sigma: float, n_segments: int, options: Options) -> Scores:
    """Blur IG as one batched call over all segments; the segments' attributions add up."""
    x = batch.inputs["image"]
    n = x.shape[0]
    # (S * N, C, H, W) each, segment-major: segment s of image i is row s * N + i
    starts, ends = blur.blur_segments(x, sigma, n_segments)
    if not options.adaptive:  # the points are shared among the segments
        options = replace(options, n_steps=max(2, math.ceil(options.n_steps / n_segments)))  # type: ignore[operator]
    res = attribute_batch(
        Batch(batch.model, {"image": ends}, positional=True, labels=batch.labels),
        [BaselineSet({"image": starts})],
        repeat_target(target, n, n_segments),
        options,
    )

    def per_image(value: torch.Tensor) -> torch.Tensor:
        return value.reshape(n_segments, n, *value.shape[1:])

    attributions = per_image(res.scores["image"]).sum(0)
    samples = None
    if res.samples is not None:  # each noisy sample's segments add up too
        samples = {"image": per_image(res.samples["image"]).sum(0)}
    return Scores(
        scores={"image": attributions},
        per_set={"image": attributions[None]},
        samples=samples,
        # Telescoping: F(x) is the last segment's end, F(x') the first segment's start.
        output=per_image(res.output)[-1],
        baseline_output=per_image(res.baseline_output)[0],
        delta=per_image(res.delta).sum(0),
        n_evals=per_image(res.n_evals).sum(0),
        error_estimate=None
        if res.error_estimate is None
        else per_image(res.error_estimate).amax(0),
        target=None if res.target is None else per_image(res.target)[-1],
        model_output=per_image(res.model_output)[-1],
        baseline_model_output=per_image(res.baseline_model_output[0])[:1],
        options=res.options,
        multi=res.multi,
    )
