"""Helpers of the multimodal rendering."""

from types import SimpleNamespace

import torch

from integrad.render.multimodal import _chosen, shares_readable
from integrad.results.multimodal import FeatureScore


def feature(position: int, score: float) -> FeatureScore:
    return FeatureScore("input_ids", "text", position, f"w{position}", "", score)


def test_the_largest_features_are_kept_in_input_order():
    features = [feature(0, 0.1), feature(1, -3.0), feature(2, 0.2), feature(3, 2.0)]
    assert [f.position for f in _chosen(features, 2)] == [1, 3]
    assert _chosen(features, 10) == features


def test_shares_are_shown_only_when_the_output_moved():
    exp = SimpleNamespace(
        output=torch.tensor([2.0, 0.05]),
        baseline_output=torch.tensor([0.0, 0.0]),
        modality_totals={"text": torch.tensor([1.5, 2.0]), "numbers": torch.tensor([0.5, -1.95])},
    )
    assert shares_readable(exp, 0)  # 2.0 moved, totals 1.5 + 0.5
    assert not shares_readable(exp, 1)  # 0.05 moved, totals cancel: 2.0 - 1.95
