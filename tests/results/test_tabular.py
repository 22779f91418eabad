"""TabularExplanation: summary, row tables, plots, HTML (escaped) and plain data."""

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

import integrad
from integrad.errors import InputError
from integrad.results.tabular import TabularExplanation

NAMES = ["age", "<i>income</i>", "debt", "score", "tenure"]


@pytest.fixture(scope="module")
def explanation():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        rng.normal(size=(4, 5)), columns=NAMES, index=pd.date_range("2024-01-01", periods=4)
    )
    background = pd.DataFrame(rng.normal(size=(10, 5)), columns=NAMES)
    return integrad.explain_tabular(
        net, rows, background=background, labels=["no", "yes"], target="yes", n_steps=16
    )


def test_summary_is_the_mean_magnitude_largest_first(explanation):
    summary = explanation.summary()
    assert summary.is_monotonic_decreasing and set(summary.index) == set(NAMES)
    assert np.isclose(summary["debt"], explanation.attributions["debt"].abs().mean())


def test_row_table_sorts_by_magnitude(explanation):
    table = explanation.row(2)
    assert list(table.columns) == ["value", "attribution"]
    assert table["attribution"].abs().is_monotonic_decreasing
    assert table.loc["age", "value"] == explanation.values.iloc[2]["age"]
    with pytest.raises(InputError, match="row 4 is out of range: there are 4 rows"):
        explanation.row(4)


def test_plots_return_figures_with_one_bar_per_feature(explanation):
    fig = explanation.plot(1, max_features=3)
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # The three largest features with their values, then the rest summed in one bar.
    assert len(labels) == 4 and labels[-1] == "2 other features"
    assert labels[0].split(" = ")[0] == explanation.row(1).index[0]
    bars = [p.get_width() for p in fig.axes[0].patches]
    assert np.isclose(sum(bars), explanation.attributions.iloc[1].sum())
    summary = explanation.plot_summary()
    heights = sorted(p.get_width() for p in summary.axes[0].patches)
    assert np.allclose(heights, sorted(explanation.summary()))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_html_escapes_feature_names(explanation):
    fragment = explanation.to_html(max_rows=2, max_features=3)
    parser = Tags()
    parser.feed(fragment)
    assert "i" not in parser.tags and "&lt;i&gt;income&lt;/i&gt;" in fragment
    assert parser.tags.count("h4") == 2 and "2 more of 4 rows not shown" in fragment
    assert "toward yes" in fragment  # one target for every row: named in the legend


def test_plain_data_round_trips_through_json(explanation):
    data = json.loads(explanation.to_json())
    frame = data["attributions"]["frame"]
    assert frame["columns"] == NAMES and frame["index"][0].startswith("2024-01-01")
    assert np.allclose(frame["data"], explanation.attributions.to_numpy())
    assert data["target"]["tensor"] == [1, 1, 1, 1] and data["target_labels"] == ["yes"] * 4
    assert np.allclose(data["delta"]["tensor"], explanation.delta.numpy())
    assert data["std"] is None
    again = TabularExplanation.from_json(explanation.to_json())
    assert again == explanation
    assert list(again.attributions.columns) == NAMES
