"""The one target resolver: every form a target may take, and what it refuses."""

import pytest
import torch

from integrad.errors import TargetError
from integrad.targets import PerExample, resolve_target

LABELS = ("NEGATIVE", "NEUTRAL", "POSITIVE")


def picked(target, output, **kwargs):
    """The (batch, K) scalars the resolved target selects from ``output``."""
    resolved = resolve_target(target, output, **kwargs)
    return resolved(output, torch.arange(output.shape[0]))


def test_none_and_predicted_take_each_examples_highest_output():
    out = torch.tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0]])
    assert picked(None, out).tolist() == [[2.0], [5.0]]
    assert picked("predicted", out).tolist() == [[2.0], [5.0]]
    scalar = torch.tensor([3.0, -1.0])  # one output per example: that output
    assert picked(None, scalar).tolist() == [[3.0], [-1.0]]


def test_labels_by_name_case_insensitive_and_per_example():
    out = torch.arange(6.0).reshape(2, 3)
    assert picked("POSITIVE", out, labels=LABELS).tolist() == [[2.0], [5.0]]
    assert picked("neutral", out, labels=LABELS).tolist() == [[1.0], [4.0]]
    assert picked(["NEGATIVE", 2], out, labels=LABELS).tolist() == [[0.0], [5.0]]


def test_a_tuple_indexes_a_multidimensional_output_for_every_example():
    out = torch.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    # (1, 2) is output[:, 1, 2] for both examples, not one class per example
    assert picked((1, 2), out).tolist() == [[out[0, 1, 2].item()], [out[1, 1, 2].item()]]
    # a list of tuples gives one multi-dimensional index per example
    assert picked([(0, 0), (2, 3)], out).tolist() == [[out[0, 0, 0].item()], [out[1, 2, 3].item()]]
    with pytest.raises(TargetError, match=r"indexes 2 dimension\(s\), but each example's output"):
        picked((1, 2), torch.zeros(2, 3))


def test_a_list_or_1d_tensor_is_one_target_per_example_and_2d_is_several():
    out = torch.arange(6.0).reshape(2, 3)
    assert picked([1, 2], out).tolist() == [[1.0], [5.0]]
    assert picked(torch.tensor([2, 0]), out).tolist() == [[2.0], [3.0]]
    resolved = resolve_target([[0, 2], [1, 1]], out)
    assert (resolved.n_targets, resolved.multi) == (2, True)
    assert picked(torch.tensor([[0, 2], [1, 1]]), out).tolist() == [[0.0, 2.0], [4.0, 4.0]]
    with pytest.raises(TargetError, match=r"gives 3 entries for 2 examples.*pass a tuple"):
        picked([0, 1, 2], out)


def test_scores_are_applied_before_the_target_selects():
    out = torch.tensor([[0.0, 0.0]])
    assert picked(0, out, score="probability").tolist() == [[0.5]]
    assert picked(0, out, score="prob").tolist() == [[0.5]]  # alias
    assert abs(picked(1, out, score="log_prob").item() - torch.log(torch.tensor(0.5))) < 1e-7


def test_callables_and_per_example_callables():
    out = torch.arange(6.0).reshape(2, 3)
    assert picked(lambda o: o.sum(1), out).tolist() == [[3.0], [12.0]]
    per = PerExample(lambda o, ex: o[torch.arange(len(ex)), ex])
    assert picked(per, out).tolist() == [[0.0], [4.0]]
    with pytest.raises(TargetError, match=r"one scalar per example, shape \(2,\)"):
        picked(lambda o: o, torch.zeros(2, 3, 4))


def test_errors_name_what_is_valid():
    out = torch.zeros(1, 3)
    with pytest.raises(TargetError, match=r"unknown label 'happy'.*NEGATIVE, NEUTRAL, POSITIVE"):
        picked("happy", out, labels=LABELS)
    with pytest.raises(TargetError, match=r"target 3 is out of range.*0..2 \(0=NEGATIVE"):
        picked(3, out, labels=LABELS)
    with pytest.raises(TargetError, match=r"class names are not known; pass labels="):
        picked("POSITIVE", out)
    with pytest.raises(TargetError, match=r"got True"):
        picked([True], out)
    with pytest.raises(TargetError, match=r"integer class indices"):
        picked(torch.tensor([0.5]), out)
