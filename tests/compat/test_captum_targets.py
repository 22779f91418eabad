"""Captum's target forms in integrad.compat.captum, after Captum's target test file (rewritten
here): every form against Captum, a batch with per-example targets against its examples one
at a time, and the targets Captum refuses."""

import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import NoiseTunnel as CaptumNoiseTunnel

import integrad
from integrad.compat.captum import IntegratedGradients, LayerIntegratedGradients, NoiseTunnel
from tests.captum_models import ThreeLayers, TwoEmbeddings
from tests.compat.parity import assert_same

X = torch.tensor([[1.5, 2.0, 1.3], [0.5, 0.1, 2.3], [1.5, 2.0, 1.3]])
NET = ThreeLayers()


def multidim(x):
    return NET(x, multidim=True)  # (batch, 2, 2, 2)


FORMS = {
    "an int": (NET, 1),
    "a 0-d tensor": (NET, torch.tensor(1)),
    "a one-element tensor": (NET, torch.tensor([0])),
    "a list of ints": (NET, [0, 1, 1]),
    "a 1-D tensor": (NET, torch.tensor([1, 0, 1])),
    "a tuple into a multi-dimensional output": (multidim, (1, 0, 1)),
    "a list of tuples": (multidim, [(0, 1, 1), (1, 1, 0), (0, 0, 0)]),
}


@pytest.mark.parametrize("form", FORMS)
def test_every_form_gives_captums_attributions(form):
    model, target = FORMS[form]
    ours = IntegratedGradients(model).attribute(X, target=target, n_steps=20)
    theirs = CaptumIG(model).attribute(X, target=target, n_steps=20)
    assert_same(ours, theirs)


@pytest.mark.parametrize("target", [[0, 1, 1], torch.tensor([1, 0, 1])])
def test_a_batch_with_a_target_per_example_equals_its_examples(target):
    ig = IntegratedGradients(NET)
    batch = ig.attribute(X, target=target, n_steps=20)
    for i in range(3):
        for alone in (target[i], target[i : i + 1]):  # an int, or a list of one
            one = ig.attribute(X[i : i + 1], target=alone, n_steps=20)
            torch.testing.assert_close(batch[i : i + 1], one)
    # The tunnel repeats each example's target for its samples, as Captum does.
    torch.manual_seed(0)
    ours = NoiseTunnel(ig).attribute(X, target=target, stdevs=0.2, n_steps=20)
    torch.manual_seed(0)
    theirs = CaptumNoiseTunnel(CaptumIG(NET)).attribute(X, target=target, stdevs=0.2, n_steps=20)
    assert_same(ours, theirs)


def test_per_example_targets_with_token_ids():
    net = TwoEmbeddings()
    ids = torch.tensor([[2, 5, 0, 1], [3, 1, 1, 0]])
    lig = LayerIntegratedGradients(lambda i: net(i, i).repeat(1, 2), net.embedding1)
    both = lig.attribute(ids, target=[0, 1], n_steps=10)
    for i in range(2):
        torch.testing.assert_close(
            both[i : i + 1], lig.attribute(ids[i : i + 1], target=i, n_steps=10)
        )


def test_no_target_is_only_for_one_output_per_example():
    with pytest.raises(
        integrad.TargetError, match=r"target=None, but the model returns 2 outputs.*As in Captum"
    ):
        IntegratedGradients(NET).attribute(X)
    one = IntegratedGradients(lambda x: NET(x)[:, :1]).attribute(X, n_steps=20)
    assert_same(one, IntegratedGradients(NET).attribute(X, target=0, n_steps=20))


def test_targets_captum_refuses_are_refused():
    # A tuple with more indices than the output has dimensions (Captum's multi-target test).
    with pytest.raises(integrad.TargetError, match=r"indexes 2 dimension\(s\).*shape \(2,\)"):
        IntegratedGradients(NET).attribute(X, target=(1, 0))
    # An int indexes the last dimension, never a flattened multi-dimensional output.
    with pytest.raises(integrad.TargetError, match=r"indexes 1 dimension\(s\).*shape \(2, 2, 2\)"):
        IntegratedGradients(multidim).attribute(X, target=3)
    with pytest.raises(integrad.TargetError, match=r"one index per example.*\(batch, K\)"):
        IntegratedGradients(NET).attribute(X, target=torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(integrad.TargetError, match="3 examples"):
        IntegratedGradients(NET).attribute(X, target=[0, 1])
