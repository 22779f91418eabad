"""Pixel attributions as pictures: signed heatmap, overlay on the image, magnitude, spread.

The signed views use the project's one color scale (green toward the target, red against,
white for zero). Color scales are clipped at the 99th percentile of the magnitudes, since a
few pixels usually dominate and would otherwise wash the rest of the map out.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from integrad.render.colors import NEGATIVE_RGB, NEUTRAL_RGB, POSITIVE_RGB
from integrad.render.html import batch_fragment, esc
from integrad.render.summary import integration

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from integrad.results.image import ImageExplanation

#: The views :meth:`ImageExplanation.plot` can draw, in their default order.
VIEWS = ("image", "signed", "overlay", "absolute", "std", "spread")
_TITLES = {
    "image": "input",
    "signed": "attribution",
    "overlay": "overlay",
    "absolute": "|attribution|",
    "std": "noise std",
    "spread": "spread over baselines",
}


def signed_cmap() -> Colormap:
    """Red (against) -> white (zero) -> green (toward the target)."""
    from matplotlib.colors import LinearSegmentedColormap

    ends = [tuple(c / 255 for c in rgb) for rgb in (NEGATIVE_RGB, NEUTRAL_RGB, POSITIVE_RGB)]
    return LinearSegmentedColormap.from_list("integrad_signed", ends)


def robust_scale(values: np.ndarray, quantile: float = 0.99) -> float:
    """The color-scale limit: a high quantile of the magnitudes (never zero)."""
    magnitude = np.abs(values).ravel()
    if magnitude.size == 0 or magnitude.max() == 0:
        return 1.0
    scale = float(np.quantile(magnitude, quantile))
    return scale if scale > 0 else float(magnitude.max())


def overlay_rgb(image: np.ndarray, pixel_map: np.ndarray, scale: float) -> np.ndarray:
    """The image in dimmed gray with the signed colors blended in by magnitude, (H, W, 3).

    Args:
        image: (H, W, 1 or 3) floats in [0, 1].
        pixel_map: (H, W) signed scores.
        scale: Magnitude shown at full strength.
    """
    gray = image.mean(-1, keepdims=True)  # (H, W, 1)
    backdrop = np.repeat(0.2 + 0.6 * gray, 3, axis=-1)  # keep the image legible under color
    pos = np.array(POSITIVE_RGB) / 255
    neg = np.array(NEGATIVE_RGB) / 255
    color = np.where(pixel_map[..., None] > 0, pos, neg)  # (H, W, 3)
    # Linear in magnitude: small scores leave the image visible, large ones cover it.
    alpha = 0.9 * np.clip(np.abs(pixel_map) / scale, 0, 1)[..., None]
    return (1 - alpha) * backdrop + alpha * color


def figure(explanation: ImageExplanation, indices: list[int], views: list[str]) -> Figure:
    """One row per image, one column per view."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.6 * len(views), 2.9 * len(indices) + 0.5), layout="constrained")
    axes = np.asarray(fig.subplots(len(indices), len(views), squeeze=False))
    for row, index in enumerate(indices):
        for col, view in enumerate(views):
            _panel(fig, axes[row, col], explanation, index, view)
    fig.suptitle(figure_title(explanation), fontsize=10)
    return fig


def figure_title(explanation: ImageExplanation) -> str:
    """What was computed, in a few words: the method (Blur IG, or IG averaged over noisy copies
    when noise was asked for), the baseline or path, and the integration rule."""
    noise = explanation.options.noise
    name = "Blur IG" if explanation.path == "blur" else "Integrated Gradients"
    if noise is not None:
        kinds = {"smoothgrad": "SmoothGrad", "smoothgrad_sq": "SmoothGrad²", "vargrad": "VarGrad"}
        name = f"{kinds[noise.kind]} over {name}, {noise.n_samples} noisy copies ({noise.level:g})"
    where = "path from the image" if explanation.path == "blur" else "baseline:"
    return f"{name}; {where} {explanation.baseline}; {explanation.method}"


def _panel(fig: Figure, ax: Any, exp: ImageExplanation, index: int, view: str) -> None:
    image = exp.images[index].numpy()
    pixel_map = exp.pixel_map[index].detach().float().cpu().numpy()
    scale = robust_scale(pixel_map)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(_TITLES[view], fontsize=9)
    if view == "image":
        ax.imshow(image if image.shape[-1] == 3 else image[..., 0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(_caption(exp, index), fontsize=9)
        return
    if view == "signed":
        shown = ax.imshow(pixel_map, cmap=signed_cmap(), vmin=-scale, vmax=scale)
        total = float(pixel_map.sum())
        ax.set_xlabel(f"sum {total:.3g}   delta {float(exp.delta[index]):.1e}", fontsize=8)
    elif view == "overlay":
        ax.imshow(overlay_rgb(image, pixel_map, scale))
        return
    elif view == "absolute":
        magnitude = np.abs(pixel_map)
        shown = ax.imshow(magnitude, cmap="inferno", vmin=0, vmax=robust_scale(magnitude))
    else:
        values = exp.pixel_std if view == "std" else exp.pixel_spread
        data = values[index].detach().float().cpu().numpy()  # type: ignore[index]
        shown = ax.imshow(data, cmap="inferno", vmin=0, vmax=robust_scale(data))
    bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=7)


def _caption(exp: ImageExplanation, index: int) -> str:
    label = exp.target_labels[index] if exp.target_labels else "output"
    text = f"target {label}"
    if exp.probabilities is not None and exp.target is not None:
        text += f"  p={float(exp.probabilities[index, int(exp.target[index])]):.2f}"
    if exp.predicted is not None and exp.target is not None:
        predicted = int(exp.predicted[index])
        if predicted != int(exp.target[index]):
            shown = exp.labels[predicted] if exp.labels else str(predicted)
            text += f"\n(predicted {shown})"
    return text


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def image_html(explanation: ImageExplanation, views: list[str], max_images: int = 8) -> str:
    """A self-contained fragment: one embedded PNG row per image and its numbers."""
    n = explanation.pixel_map.shape[0]
    shown = min(n, max_images)
    blocks = (_image_block(explanation, views, index) for index in range(shown))
    return batch_fragment("image", explanation.target_labels, blocks, n, shown, "images")


def _image_block(explanation: ImageExplanation, views: list[str], index: int) -> str:
    png = base64.b64encode(png_bytes(figure(explanation, [index], views))).decode("ascii")
    label = explanation.target_labels[index] if explanation.target_labels else "output"
    errors = explanation.error_estimate
    estimate = None if errors is None else float(errors[index])
    numbers = (
        f"target {esc(label)} · F(x) = {float(explanation.output[index]):.4g} · "
        f"F(baseline) = {float(explanation.baseline_output[index]):.4g} · "
        f"delta = {float(explanation.delta[index]):.2e} · "
        + esc(integration(explanation.method, int(explanation.n_evals[index]), estimate))
    )
    return (
        f'<figure style="margin:1em 0"><img alt="attribution maps for image {index}" '
        f'style="max-width:100%" src="data:image/png;base64,{png}">'
        f'<figcaption style="font-size:0.85em;color:#444">{numbers}<br>baseline: '
        f"{esc(explanation.baseline)} · path: {esc(explanation.path)} · "
        f"score: {esc(explanation.score)}</figcaption></figure>"
    )
