"""integrad.compat.alibi on torch models: alibi's explanation layout (shapes and types of every
field) for tables, images, several inputs and layers; its target forms; Captum as the second
implementation of the numbers. (Keras models: test_keras.py.)"""

import functools
import json

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import LayerIntegratedGradients as CaptumLIG
from torch import nn

import integrad
from integrad.compat.alibi import Explanation, IntegratedGradients
from tests.captum_models import ThreeLayers

ROWS = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)


@pytest.fixture
def mlp32(mlp):
    return mlp.float()


def check_layout(explanation, X, n_attributions):
    """Every field of alibi's layout, with its type and shape."""
    assert isinstance(explanation, Explanation)
    assert set(explanation.data) == {
        "attributions", "X", "forward_kwargs", "baselines", "predictions", "deltas", "target"
    }  # fmt: skip
    assert explanation.meta["name"] == "IntegratedGradients"
    assert explanation.meta["type"] == ["whitebox"] and explanation.meta["explanations"] == [
        "local"
    ]
    assert explanation.meta["version"] == integrad.__version__
    assert (
        isinstance(explanation.attributions, list)
        and len(explanation.attributions) == n_attributions
    )
    assert all(isinstance(a, np.ndarray) for a in explanation.attributions)
    n = len(X[0] if isinstance(X, list) else X)
    assert isinstance(explanation.predictions, np.ndarray) and len(explanation.predictions) == n
    assert isinstance(explanation.deltas, np.ndarray) and explanation.deltas.shape == (n,)
    assert explanation.X is X and explanation.forward_kwargs == {}
    for name in explanation.data:  # each key is also an attribute
        assert getattr(explanation, name) is explanation.data[name]
    assert json.loads(explanation.to_json())["data"]["deltas"] == explanation.deltas.tolist()


def test_a_table(mlp32):
    explanation = IntegratedGradients(mlp32).explain(ROWS, target=[0, 1, 2, 0])
    check_layout(explanation, ROWS, 1)
    (attributions,) = explanation.attributions
    assert attributions.shape == ROWS.shape and attributions.dtype == np.float32
    assert explanation.baselines.shape == ROWS.shape and not explanation.baselines.any()
    assert explanation.target.tolist() == [0, 1, 2, 0]
    with torch.no_grad():
        np.testing.assert_allclose(explanation.predictions, mlp32(torch.from_numpy(ROWS)).numpy())
    theirs = CaptumIG(mlp32).attribute(torch.from_numpy(ROWS), target=[0, 1, 2, 0])
    np.testing.assert_allclose(attributions, theirs.numpy(), rtol=1e-5, atol=1e-7)
    assert np.abs(explanation.deltas).max() < 1e-5
    assert explanation.meta["params"] == {
        "target_fn": None, "method": "gausslegendre", "n_steps": 50, "internal_batch_size": 100,
        "layer": "unspecified",
    }  # fmt: skip


def test_images(cnn):
    images = np.random.default_rng(1).random((2, 3, 8, 8), dtype=np.float32)
    explanation = IntegratedGradients(cnn, n_steps=16).explain(images, baselines=0.5, target=3)
    check_layout(explanation, images, 1)
    assert explanation.attributions[0].shape == images.shape
    assert (explanation.baselines == 0.5).all() and explanation.baselines.dtype == np.float32
    theirs = CaptumIG(cnn).attribute(torch.from_numpy(images), 0.5, target=3, n_steps=16)
    np.testing.assert_allclose(explanation.attributions[0], theirs.numpy(), rtol=1e-5, atol=1e-7)


def test_several_inputs_are_passed_positionally_to_a_torch_model():
    net = ThreeLayers()  # forward(x, extra): the two inputs are added
    X = [ROWS[:, :3], ROWS[:, 2:]]
    baselines = [np.zeros((4, 3), np.float32), 0.1]
    explanation = IntegratedGradients(net).explain(X, baselines=baselines, target=1)
    check_layout(explanation, X, 2)
    assert isinstance(explanation.baselines, list) and explanation.baselines[1].shape == (4, 3)
    inputs = tuple(torch.from_numpy(x) for x in X)
    theirs = CaptumIG(net).attribute(inputs, (0.0, 0.1), target=1)
    for ours, reference in zip(explanation.attributions, theirs, strict=True):
        np.testing.assert_allclose(ours, reference.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(integrad.BaselineError, match="a list with one baseline per input"):
        IntegratedGradients(net).explain(X, baselines=np.zeros((4, 3)), target=1)


def test_a_layer_given_as_a_module_or_a_function(embedding_mlp):
    ids = np.array([[3, 5, 7, 9], [1, 2, 3, 4]])
    explanation = IntegratedGradients(embedding_mlp, layer=embedding_mlp.embedding).explain(
        ids, target=2
    )
    check_layout(explanation, ids, 1)
    assert explanation.attributions[0].shape == (2, 4, 8)
    assert explanation.meta["params"]["layer"] == "embedding"
    theirs = CaptumLIG(embedding_mlp, embedding_mlp.embedding).attribute(
        torch.from_numpy(ids), target=2
    )
    np.testing.assert_allclose(explanation.attributions[0], theirs.numpy(), rtol=1e-5, atol=1e-7)
    by_function = IntegratedGradients(embedding_mlp, layer=lambda m: m.mlp[0])
    inputs = by_function.explain(ids, target=2, attribute_to_layer_inputs=True)
    assert inputs.attributions[0].shape == (2, 8) and inputs.meta["params"]["layer"] == "callable"
    with pytest.raises(integrad.InputError, match=r"token ids.*IntegratedGradients\(model, layer="):
        IntegratedGradients(embedding_mlp).explain(ids, target=2)


def test_target_forms(mlp32):
    ig = IntegratedGradients(mlp32, n_steps=20)
    by_list = ig.explain(ROWS, target=[2, 2, 2, 2]).attributions[0]
    np.testing.assert_array_equal(ig.explain(ROWS, target=2).attributions[0], by_list)
    np.testing.assert_array_equal(ig.explain(ROWS, target=np.full(4, 2)).attributions[0], by_list)
    by_fn = IntegratedGradients(mlp32, target_fn=functools.partial(np.argmax, axis=1), n_steps=20)
    explanation = by_fn.explain(ROWS)
    np.testing.assert_array_equal(explanation.target, explanation.predictions.argmax(1))
    with pytest.raises(integrad.TargetError, match="target=None, but the model returns 3 outputs"):
        ig.explain(ROWS)
    with pytest.raises(integrad.TargetError, match="not both"):
        by_fn.explain(ROWS, target=0)


def test_an_index_table_for_a_multidimensional_output():
    net = ThreeLayers()
    ig = IntegratedGradients(lambda x: net(x, multidim=True), n_steps=20)  # (N, 2, 2, 2)
    X = ROWS[:2, :3]
    index = np.array([[0, 1, 1], [1, 0, 0]])
    explanation = ig.explain(X, target=index)
    assert explanation.target.shape == (2, 3)
    for i, (a, b, c) in enumerate(index.tolist()):
        alone = CaptumIG(lambda x: net(x, multidim=True)).attribute(
            torch.from_numpy(X[i : i + 1]), target=(a, b, c), n_steps=20
        )
        np.testing.assert_allclose(explanation.attributions[0][i : i + 1], alone.numpy(), rtol=1e-5)


def test_one_probability_per_example_explains_either_class():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
    ig = IntegratedGradients(net, n_steps=20)
    positive = ig.explain(ROWS, target=1)
    negative = ig.explain(ROWS, target=[0, 0, 0, 0])
    # The negative class is 1 - p: its attributions are the positive ones' negatives.
    np.testing.assert_allclose(negative.attributions[0], -positive.attributions[0], rtol=1e-6)
    assert np.abs(negative.deltas).max() < 1e-5 and np.abs(positive.deltas).max() < 1e-5
    regression = ig.explain(ROWS)  # no target: the one output itself
    np.testing.assert_allclose(regression.attributions[0], positive.attributions[0])
    with pytest.raises(integrad.TargetError, match=r"must be 0 .* or 1 .*got \[2\]"):
        ig.explain(ROWS, target=2)


def test_adaptive_integration_and_settings_checked_at_construction(mlp32):
    fixed = IntegratedGradients(mlp32, n_steps=64).explain(ROWS, target=0)
    adaptive = IntegratedGradients(mlp32, method="adaptive", tol=1e-5).explain(ROWS, target=0)
    assert adaptive.meta["params"]["n_steps"] is None
    np.testing.assert_allclose(
        adaptive.attributions[0], fixed.attributions[0], rtol=1e-4, atol=1e-6
    )
    with pytest.raises(integrad.IntegradError, match="unknown method 'simpson'"):
        IntegratedGradients(mlp32, method="simpson")
