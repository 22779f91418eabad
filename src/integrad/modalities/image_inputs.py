"""Images as the user has them (tensors, PIL images, uint8 arrays) -> the model's tensors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from integrad.errors import InputError

Preprocess = Callable[[Any], torch.Tensor]


def to_float_tensor(image: Any) -> torch.Tensor:
    """The default preprocessing: an HWC (or HW) uint8 image -> (C, H, W) floats in [0, 1]."""
    pixels = torch.from_numpy(np.array(image, dtype=np.float32) / 255.0)
    return pixels[None] if pixels.dim() == 2 else pixels.permute(2, 0, 1)


@dataclass(frozen=True)
class RawImages:
    """Images ready for the model, with what is needed to rebuild and to show them.

    Attributes:
        tensor: What the model sees, (N, C, H, W) floats.
        display: The images for showing, (N, H, W, 1 or 3) floats in [0, 1].
        raw: The HWC / HW uint8 arrays when images were given raw, else None.
        was_pil: Whether the raw images came as PIL images (baselines are passed to
            ``preprocess`` the same way).
        preprocess: The preprocessing callable for raw images.
    """

    tensor: torch.Tensor
    display: torch.Tensor
    raw: list[np.ndarray] | None
    was_pil: bool
    preprocess: Preprocess

    def preprocess_like(self, pixels: np.ndarray) -> torch.Tensor:
        """Preprocess a uint8 array given in the same form as the user's images: (1, C, H, W)."""
        if self.was_pil:
            from PIL import Image

            return _checked(self.preprocess(Image.fromarray(pixels)))
        return _checked(self.preprocess(pixels))


def prepare_images(image: Any, preprocess: Preprocess | None) -> RawImages:
    """Check and convert ``image`` (see :func:`integrad.explain_image`) to a float batch."""
    if isinstance(image, torch.Tensor):
        if preprocess is not None:
            raise InputError(
                "preprocess= applies to PIL images and uint8 arrays; the tensor was given "
                "already preprocessed. Drop preprocess=, or pass the raw image instead"
            )
        if not image.is_floating_point():
            raise InputError(
                f"the image tensor has dtype {image.dtype}, but IG interpolates pixel values and "
                "needs floats. Convert it the way the model expects, e.g. image.float() / 255, or "
                "pass the HWC uint8 array / PIL image with preprocess=<your transform>"
            )
        if image.dim() not in (3, 4):
            raise InputError(
                f"the image tensor has shape {tuple(image.shape)}; expected (C, H, W) or "
                "(N, C, H, W). For HWC arrays, pass a numpy uint8 array instead"
            )
        x = image[None] if image.dim() == 3 else image
        return RawImages(x, _display_from_tensor(x), None, False, to_float_tensor)
    items = list(image) if isinstance(image, (list, tuple)) else [image]
    if isinstance(image, np.ndarray) and image.ndim == 4:
        items = list(image)
    if not items:
        raise InputError("no images were given; pass a tensor, a PIL image or a list of them")
    was_pil = _is_pil(items[0])
    raw = [_raw_array(item) for item in items]
    prep = preprocess or to_float_tensor
    tensors = [_checked(prep(item)) for item in items]
    shapes = {tuple(t.shape[1:]) for t in tensors}
    if len(shapes) != 1:
        raise InputError(
            f"the preprocessed images have different shapes {sorted(shapes)}; a batch needs one "
            "size: resize in preprocess (e.g. torchvision.transforms.Resize((224, 224)))"
        )
    x = torch.cat(tensors)
    same_size = all(r.shape[:2] == tuple(x.shape[2:]) for r in raw)
    display = _display_from_raw(raw) if same_size else _display_from_tensor(x)
    return RawImages(x, display, raw, was_pil, prep)


def _is_pil(item: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return False
    return isinstance(item, Image.Image)


def _raw_array(item: Any) -> np.ndarray:
    if _is_pil(item):
        return np.asarray(item.convert("RGB") if item.mode not in ("L", "RGB") else item)
    if isinstance(item, np.ndarray):
        if item.dtype != np.uint8 or item.ndim not in (2, 3):
            raise InputError(
                f"a numpy image must be HWC or HW uint8 pixels; got {item.dtype} with shape "
                f"{item.shape}. For float images, pass a (C, H, W) torch tensor instead, e.g. "
                "torch.as_tensor(array).permute(2, 0, 1)"
            )
        return item
    raise InputError(
        f"an image must be a torch tensor, a PIL image or a numpy uint8 array; got "
        f"{type(item).__name__}"
    )


def _checked(tensor: Any) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        got = tensor.dtype if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        raise InputError(
            f"preprocess returned {got}; it must return a float tensor shaped (C, H, W) or "
            "(1, C, H, W), e.g. torchvision.transforms.ToTensor() followed by Normalize"
        )
    if tensor.dim() == 3:
        return tensor[None]
    if tensor.dim() != 4 or tensor.shape[0] != 1:
        raise InputError(
            f"preprocess returned shape {tuple(tensor.shape)}; expected (C, H, W) or (1, C, H, W)"
        )
    return tensor


def _display_from_raw(raw: list[np.ndarray]) -> torch.Tensor:
    rows = []
    for r in raw:
        pixels = r[..., None] if r.ndim == 2 else r[..., :3]
        rows.append(torch.from_numpy(pixels.astype(np.float32) / 255.0))
    return torch.stack(rows)


def _display_from_tensor(x: torch.Tensor) -> torch.Tensor:
    """Each image stretched to [0, 1] for showing (normalised tensors are not in pixel units)."""
    shown = x.detach().float().cpu()
    if shown.shape[1] not in (1, 3):
        shown = shown.mean(1, keepdim=True)
    lo = shown.amin(dim=(1, 2, 3), keepdim=True)
    hi = shown.amax(dim=(1, 2, 3), keepdim=True)
    shown = (shown - lo) / (hi - lo).clamp_min(1e-12)
    return shown.permute(0, 2, 3, 1)
