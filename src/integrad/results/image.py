"""What :func:`integrad.explain_image` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from integrad.errors import InputError
from integrad.results.base import ClassifierBatch

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, eq=False, kw_only=True)
class ImageExplanation(ClassifierBatch):
    """Pixel attributions for a batch of N images.

    The fields every batch result shares (``output``, ``baseline_output``, ``delta``,
    ``n_evals``, ``error_estimate``, ``baseline``, ``options``) are described in
    :class:`~integrad.results.base.BatchExplanation`, and ``target``, ``predicted``,
    ``probabilities``, ``labels`` in :class:`~integrad.results.base.ClassifierBatch`.

    Attributes:
        attributions: Per pixel and channel, (N, C, H, W).
        pixel_map: Summed over channels, (N, H, W): what the heatmaps show.
        images: The images for display, (N, H, W, 1 or 3) in [0, 1].
        path: ``"straight"`` or ``"blur"`` (Blur IG).
        std: Noise-averaging standard deviation per pixel and channel, or None.
        pixel_std: The standard deviation of the pixel map across noisy samples, or None.
        pixel_spread: Standard deviation of the pixel map across averaged baselines, or None.

    Example:
        >>> exp = integrad.explain_image(model, images, baseline=["black", "blur"])
        >>> fig = exp.plot()          # image, signed map, overlay, magnitude, spread
        >>> exp.save_png("maps.png")
    """

    attributions: torch.Tensor
    pixel_map: torch.Tensor
    images: torch.Tensor
    path: str = "straight"
    std: torch.Tensor | None = None
    pixel_std: torch.Tensor | None = None
    pixel_spread: torch.Tensor | None = None

    def views(self) -> list[str]:
        """The views this explanation can show: std and spread only when they were measured."""
        from integrad.render.image import VIEWS

        have = {"std": self.pixel_std is not None, "spread": self.pixel_spread is not None}
        return [v for v in VIEWS if have.get(v, True)]

    def plot(
        self,
        index: int | list[int] | None = None,
        *,
        ax: Any = None,
        views: list[str] | None = None,
    ) -> Figure:
        """A matplotlib Figure: one row per image, one column per view.

        Args:
            index: An image index, a list of them, or None for all (at most 8).
            ax: Not used: an image's views need a row of axes of their own (the argument is
                shared by every result's ``plot``).
            views: Any of ``"image"``, ``"signed"``, ``"overlay"``, ``"absolute"``,
                ``"std"``, ``"spread"``; default all that apply.
        """
        from integrad.render.image import figure

        if ax is not None:
            raise InputError(
                "ImageExplanation.plot() draws a row of views per image into its own figure; "
                "use views=[...] to choose them, or draw exp.pixel_map[i] yourself"
            )
        n = self.pixel_map.shape[0]
        indices = (
            list(range(min(n, 8)))
            if index is None
            else [index]
            if isinstance(index, int)
            else list(index)
        )
        bad = [i for i in indices if not -n <= i < n]
        if bad:
            raise InputError(f"image index {bad[0]} is out of range: there are {n} images")
        chosen = self.views() if views is None else list(views)
        unknown = [v for v in chosen if v not in self.views()]
        if unknown:
            raise InputError(
                f"unknown or unavailable view {unknown[0]!r}; this explanation can show "
                f"{', '.join(self.views())} (std needs noise=, spread several baselines)"
            )
        return figure(self, [i % n for i in indices], chosen)

    def save_png(
        self, path: str | Path, index: int | list[int] | None = None, dpi: int = 120
    ) -> None:
        """Write :meth:`plot` to a PNG file."""
        self.plot(index).savefig(path, dpi=dpi)

    def to_html(self, max_images: int = 8) -> str:
        """A self-contained fragment with one embedded PNG per image (no script, no network)."""
        from integrad.render.image import image_html

        return image_html(self, self.views(), max_images)
