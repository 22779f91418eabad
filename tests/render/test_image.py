"""The pixel-map drawing helpers."""

import numpy as np
import torch

from integrad.render.colors import NEGATIVE_RGB, POSITIVE_RGB
from integrad.render.image import overlay_rgb, robust_scale, signed_cmap


def test_signed_colormap_runs_red_white_green():
    cmap = signed_cmap()
    assert np.allclose(cmap(0.0)[:3], np.array(NEGATIVE_RGB) / 255)
    assert np.allclose(cmap(0.5)[:3], 1.0, atol=0.01)
    assert np.allclose(cmap(1.0)[:3], np.array(POSITIVE_RGB) / 255)


def test_robust_scale_ignores_a_few_extreme_pixels():
    values = np.ones(1000)
    values[:3] = 1000.0
    assert robust_scale(values) == 1.0
    assert robust_scale(np.zeros(5)) == 1.0
    # Mostly zeros with a few nonzero values still gives a usable, positive scale.
    sparse = np.zeros(1000)
    sparse[0] = -4.0
    assert robust_scale(sparse) == 4.0


def test_overlay_keeps_the_image_where_scores_are_zero():
    image = np.full((2, 2, 1), 0.5)
    scores = np.array([[0.0, 10.0], [-10.0, 0.0]])
    out = overlay_rgb(image, scores, scale=10.0)
    assert out.shape == (2, 2, 3)
    assert np.allclose(out[0, 0], 0.5)  # dimmed gray: 0.2 + 0.6 * 0.5
    # Full-strength scores take (mostly) the signed colors.
    assert out[0, 1, 1] > out[0, 1, 0] and out[1, 0, 0] > out[1, 0, 1]


def test_the_figure_title_names_noise_averaging(cnn):
    import integrad
    from integrad.render.image import figure_title

    images = torch.rand(1, 3, 8, 8)
    plain = integrad.explain_image(cnn, images, n_steps=4)
    assert figure_title(plain).startswith("Integrated Gradients; baseline: black; gausslegendre")
    noisy = integrad.explain_image(cnn, images, n_steps=4, noise=integrad.Noise(n_samples=3))
    assert figure_title(noisy).startswith("SmoothGrad over Integrated Gradients, 3 noisy copies")
