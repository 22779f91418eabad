"""MultimodalExplanation: long table, plot, HTML (escaped) and plain data."""

import json
from html.parser import HTMLParser

import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import integrad
from integrad.results.multimodal import MultimodalExplanation

EVIL = "<img src=x onerror=alert(1)>"


class Tiny(nn.Module):
    """Token ids (embedded) and two numbers -> 2 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(6, 3)
        self.head = nn.Linear(3 + 2, 2)

    def forward(self, input_ids, numbers):
        return self.head(torch.cat([torch.tanh(self.embedding(input_ids)).mean(1), numbers], 1))


@pytest.fixture(scope="module")
def explanation():
    torch.manual_seed(0)
    model = Tiny()
    inputs = {"input_ids": torch.tensor([[1, 2, 3], [4, 5, 1]]), "numbers": torch.randn(2, 2)}
    return integrad.explain_multimodal(
        model,
        inputs,
        layer={"input_ids": model.embedding},
        target=1,
        labels=["no", "yes"],
        names={"input_ids": [["good", EVIL, "day"], ["a", "b", "c"]], "numbers": ["x", "y"]},
        modalities={"input_ids": "text", "numbers": "numbers"},
        n_steps=16,
    )


def test_long_table_lists_every_feature(explanation):
    frame = explanation.to_frame()
    assert list(frame.columns) == [
        "example",
        "input",
        "modality",
        "position",
        "name",
        "value",
        "score",
        "std",
    ]
    assert len(frame) == 2 * (3 + 2)
    assert frame.loc[1, "name"] == EVIL
    sums = frame.groupby(["example", "modality"])["score"].sum()
    assert abs(sums[(0, "text")] - float(explanation.modality_totals["text"][0])) < 1e-6


def test_plot_has_a_share_panel_and_one_per_modality(explanation):
    fig = explanation.plot(1, max_features=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.axes[1].get_title() == "text (top 2; 1 more not shown)"
    labels = [t.get_text() for t in fig.axes[2].get_yticklabels()]
    numbers = [f for f in explanation.features[1] if f.input == "numbers"]
    assert labels == [f"x = {numbers[0].value}", f"y = {numbers[1].value}"]
    bars = [p.get_width() for p in fig.axes[2].patches]
    assert bars == pytest.approx([f.score for f in numbers])


def test_html_escapes_token_names(explanation):
    fragment = explanation.to_html()

    tags: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Tags().feed(fragment)
    assert "img" not in tags and "span" in tags
    assert "&lt;img src=x onerror=alert(1)&gt;" in fragment
    assert "toward yes" in fragment and fragment.count("<h4") == 2


def test_plain_data_round_trips_through_json(explanation):
    data = json.loads(explanation.to_json())
    assert data["features"][0][1]["name"] == EVIL
    assert data["modalities"] == {"input_ids": "text", "numbers": "numbers"}
    assert data["fixed"] == [] and data["shares"]["text"]["shape"] == [2]
    again = MultimodalExplanation.from_json(explanation.to_json())
    assert again == explanation and again.features[0][1] == explanation.features[0][1]
