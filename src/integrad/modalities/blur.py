"""Gaussian blur, and the Blur IG path (Xu et al. 2020) as a chain of straight segments.

Blur IG integrates along ever less blurred copies of the image, from heavily blurred to the
image itself, so it needs no baseline: information is removed by blurring, not by painting
the image black. The path is approximated by straight segments between blur levels; each
segment is an ordinary IG problem (baseline = the more blurred end), and the segments'
attributions add up, telescoping to F(x) - F(blurred x). Pure tensor math, no model here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from integrad.errors import BaselineError


def gaussian_kernel(sigma: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A normalized 1-D Gaussian kernel of radius ceil(3 sigma), shape (2 * radius + 1,)."""
    radius = max(1, math.ceil(3.0 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return (kernel / kernel.sum()).to(dtype)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel of (N, C, H, W) images with a Gaussian of standard deviation ``sigma``.

    The blur is separable (rows, then columns) and replicates the edge pixels, so a constant
    image stays constant and any image size works, even one smaller than the kernel.

    Example:
        >>> x = torch.zeros(1, 1, 9, 9); x[0, 0, 4, 4] = 1.0
        >>> round(float(gaussian_blur(x, 1.0).sum()), 4)
        1.0
    """
    if not isinstance(sigma, (int, float)) or sigma < 0 or not math.isfinite(sigma):
        raise BaselineError(
            f"blur sigma must be a non-negative number of pixels, got {sigma!r}; "
            "pass e.g. blur_sigma=2.0"
        )
    if sigma == 0:
        return images.clone()
    n, c, h, w = images.shape
    kernel = gaussian_kernel(float(sigma), images.dtype).to(images.device)
    radius = (kernel.shape[0] - 1) // 2
    # Channels become batch items so one depthwise kernel serves every channel.
    flat = images.reshape(n * c, 1, h, w)
    flat = F.pad(flat, (radius, radius, 0, 0), mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1))  # blur along W: (N*C, 1, H, W)
    flat = F.pad(flat, (0, 0, radius, radius), mode="replicate")
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1))  # blur along H: (N*C, 1, H, W)
    return flat.reshape(n, c, h, w)


def default_sigma(images: torch.Tensor) -> float:
    """The default blur of the blur baseline: an eighth of the larger image side, at least 1."""
    return max(1.0, max(images.shape[-2:]) / 8.0)


def default_path_sigma(images: torch.Tensor) -> float:
    """The default start of the blur path: a quarter of the larger image side, at least 1.

    Blur IG starts where the image holds almost no information (Xu et al. use sigma 50 for
    224-pixel images), so it blurs more than the blur baseline does.
    """
    return max(1.0, max(images.shape[-2:]) / 4.0)


def blur_segments(
    images: torch.Tensor, max_sigma: float, n_segments: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Blur IG path as straight segments, stacked segment-major.

    The blur levels run linearly from ``max_sigma`` down to 0 (the image itself), as in
    Xu et al. (2020).

    Args:
        images: (N, C, H, W) images.
        max_sigma: The blur at the start of the path, in pixels.
        n_segments: Number of straight segments.

    Returns:
        ``(starts, ends)``, each (n_segments * N, C, H, W): segment s of example i is row
        ``s * N + i``; each segment's start is the previous segment's end.
    """
    if not isinstance(n_segments, int) or isinstance(n_segments, bool) or n_segments < 1:
        raise BaselineError(f"blur_segments must be a positive integer, got {n_segments!r}")
    sigmas = [max_sigma * (1.0 - s / n_segments) for s in range(n_segments + 1)]
    # (n_segments + 1, N, C, H, W): the images at each blur level, the last one unblurred.
    levels = torch.stack([gaussian_blur(images, s) for s in sigmas])
    starts = levels[:-1].reshape(-1, *images.shape[1:])
    ends = levels[1:].reshape(-1, *images.shape[1:])
    return starts, ends
