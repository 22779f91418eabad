"""Gaussian blur and the Blur IG path segments."""

import pytest
import torch

from integrad.errors import BaselineError
from integrad.modalities.blur import blur_segments, default_path_sigma, gaussian_blur


def test_blur_keeps_constants_and_total_brightness():
    flat = torch.full((1, 2, 5, 5), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 3.0), flat)
    impulse = torch.zeros(1, 1, 15, 15)
    impulse[0, 0, 7, 7] = 1.0
    blurred = gaussian_blur(impulse, 1.5)
    torch.testing.assert_close(blurred.sum(), torch.tensor(1.0))
    # Symmetric spread around the impulse, largest at its centre.
    assert blurred[0, 0, 7, 7] == blurred.max()
    torch.testing.assert_close(blurred[0, 0], blurred[0, 0].T)


def test_blur_works_on_images_smaller_than_the_kernel():
    x = torch.rand(2, 3, 4, 4)
    assert gaussian_blur(x, 5.0).shape == x.shape
    assert torch.equal(gaussian_blur(x, 0), x)


def test_bad_sigma_is_refused():
    with pytest.raises(BaselineError, match="non-negative number of pixels, got -1"):
        gaussian_blur(torch.rand(1, 1, 4, 4), -1)


def test_segments_chain_from_blurred_to_the_image():
    x = torch.rand(2, 1, 8, 8)
    starts, ends = blur_segments(x, 2.0, 4)
    assert starts.shape == ends.shape == (8, 1, 8, 8)
    # Segment s of example i is row s * N + i; each start is the previous end.
    torch.testing.assert_close(starts[2:], ends[:-2])
    torch.testing.assert_close(starts[:2], gaussian_blur(x, 2.0))
    assert torch.equal(ends[-2:], x)
    with pytest.raises(BaselineError, match="blur_segments must be a positive integer"):
        blur_segments(x, 2.0, 0)


def test_path_sigma_scales_with_the_image():
    assert default_path_sigma(torch.zeros(1, 3, 224, 224)) == 56.0
    assert default_path_sigma(torch.zeros(1, 1, 2, 2)) == 1.0
