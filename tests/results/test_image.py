"""ImageExplanation: plots, PNG, HTML (escaped) and plain data."""

import io
import json
from html.parser import HTMLParser

import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import integrad
from integrad.errors import InputError
from integrad.results.image import ImageExplanation

LABELS = ["<b>cat</b>", "dog", "fox"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 3),
    )


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(1)
    return torch.rand(3, 3, 6, 6)


def titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_plot_shows_the_views_that_apply(model, images):
    plain = integrad.explain_image(model, images, target=0, labels=LABELS, n_steps=8)
    assert plain.views() == ["image", "signed", "overlay", "absolute"]
    fig = plain.plot(index=1)
    assert isinstance(fig, Figure)
    shown = titles(fig)
    assert {"attribution", "overlay", "|attribution|"} <= set(shown)
    assert shown[0].startswith("target <b>cat</b>")  # matplotlib text, not HTML
    averaged = integrad.explain_image(model, images, baseline=["black", "white"], n_steps=8)
    assert averaged.views()[-1] == "spread"
    assert "spread over baselines" in titles(averaged.plot(0))
    noisy = integrad.explain_image(model, images, noise=integrad.Noise(2, 0.1), n_steps=8)
    assert "noise std" in titles(noisy.plot([0, 2], views=["image", "std"]))


def test_plot_of_all_images_has_one_row_each(model, images):
    exp = integrad.explain_image(model, images, n_steps=8)
    # 3 rows x (4 views + 2 colorbars: signed and absolute).
    assert len(exp.plot().axes) == 3 * 6


def test_bad_plot_requests_say_what_is_available(model, images):
    exp = integrad.explain_image(model, images, n_steps=8)
    with pytest.raises(InputError, match="view 'std'; this explanation can show image, signed"):
        exp.plot(0, views=["std"])
    with pytest.raises(InputError, match="image index 3 is out of range: there are 3 images"):
        exp.plot(3)


def test_save_png_writes_a_picture(model, images, tmp_path):
    exp = integrad.explain_image(model, images, n_steps=8)
    path = tmp_path / "maps.png"
    exp.save_png(path, index=0)
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.width > 400


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_html_embeds_pictures_and_escapes_labels(model, images, tmp_path):
    exp = integrad.explain_image(model, images[:2], target=0, labels=LABELS, n_steps=8)
    fragment = exp.to_html(max_images=1)
    parser = Elements()
    parser.feed(fragment)
    assert "b" not in parser.tags and parser.tags.count("img") == 1
    assert "&lt;b&gt;cat&lt;/b&gt;" in fragment and "1 more of 2 images not shown" in fragment
    assert fragment.count('src="data:image/png;base64,') == 1
    one = integrad.explain_image(model, images[:1], target=0, labels=LABELS, n_steps=8)
    assert one._repr_html_() == one.to_html()
    one.save_html(tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text().startswith("<!DOCTYPE html>")


def test_plain_data_round_trips_through_json(model, images):
    exp = integrad.explain_image(model, images, target=[0, 1, 2], labels=LABELS, n_steps=8)
    data = json.loads(exp.to_json())
    assert data["type"] == "ImageExplanation" and data["target_labels"] == LABELS
    assert data["attributions"]["shape"] == [3, 3, 6, 6]
    assert data["attributions"]["dtype"] == "float64"
    pixel_map = torch.tensor(data["pixel_map"]["tensor"], dtype=torch.float64)
    torch.testing.assert_close(pixel_map, exp.pixel_map)
    assert data["baseline"] == "black" and data["pixel_std"] is None
    again = ImageExplanation.from_json(exp.to_json())
    assert again == exp and again.pixel_map.dtype == exp.pixel_map.dtype
    torch.testing.assert_close(again.attributions, exp.attributions, rtol=0, atol=0)
    buffer = io.BytesIO()
    exp.plot(0).savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"
