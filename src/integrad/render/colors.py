"""One signed color scale for every view: green toward the target, red against it."""

from __future__ import annotations

# Endpoints of the scale, as RGB: a saturated green for the largest positive score and a
# saturated red for the largest negative one; zero is white.
POSITIVE_RGB = (22, 163, 74)
NEGATIVE_RGB = (220, 38, 38)
NEUTRAL_RGB = (255, 255, 255)


def signed_rgb(value: float, scale: float) -> tuple[int, int, int]:
    """Blend from white toward green (value > 0) or red (value < 0) by ``|value| / scale``."""
    strength = 0.0 if scale <= 0 else min(abs(value) / scale, 1.0)
    end = POSITIVE_RGB if value > 0 else NEGATIVE_RGB
    return tuple(round(n + (e - n) * strength) for n, e in zip(NEUTRAL_RGB, end, strict=True))  # type: ignore[return-value]


def css_rgb(rgb: tuple[int, int, int]) -> str:
    """``rgb(r, g, b)`` for inline CSS."""
    return f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"


def text_color_on(rgb: tuple[int, int, int]) -> str:
    """Black or white text, whichever reads better on the background ``rgb``."""
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return "#000" if luminance > 140 else "#fff"
