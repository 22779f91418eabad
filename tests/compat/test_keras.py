"""Keras 3 models under the torch backend: functional, sequential and subclassed twins of small
torch models (the same weights) get the same attributions from integrad.attribute (layers
included), explain_tabular, explain_image (channels-last) and the alibi front door; a saved
model reloads to the same answers; another backend gets the fix in the message."""

import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, as users must

import keras
import numpy as np
import pytest
import torch
from torch import nn

import integrad
from integrad.compat import alibi
from integrad.core import foreign

ROWS = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)


def torch_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


def copy_dense(dense, linear: nn.Linear) -> None:
    dense.kernel.assign(linear.weight.detach().T.numpy())
    dense.bias.assign(linear.bias.detach().numpy())


def keras_layers():
    return (
        keras.layers.Dense(8, name="hidden"),
        keras.layers.Activation("tanh"),
        keras.layers.Dense(3, name="out"),
    )


class SubclassedMLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden, self.tanh, self.out = keras_layers()

    def call(self, x):
        return self.out(self.tanh(self.hidden(x)))


def keras_twin(kind: str, net: nn.Sequential):
    """The Keras version of ``net``: functional, sequential or subclassed, same weights."""
    if kind == "functional":
        inputs = keras.Input((5,))
        hidden, tanh, out = keras_layers()
        model = keras.Model(inputs, out(tanh(hidden(inputs))))
    elif kind == "sequential":
        model = keras.Sequential([keras.Input((5,)), *keras_layers()])
    else:
        model = SubclassedMLP()
        model(np.zeros((1, 5), np.float32))  # builds the weights
    copy_dense(model.get_layer("hidden"), net[0])
    copy_dense(model.get_layer("out"), net[2])
    return model


@pytest.fixture(params=["functional", "sequential", "subclassed"])
def twins(request):
    net = torch_mlp()
    return net, keras_twin(request.param, net)


def test_attribute_with_inputs_and_keras_layers(twins):
    net, model = twins
    x = torch.from_numpy(ROWS)
    flags = [p.requires_grad for p in model.parameters()]
    for kwargs, torch_kwargs in (
        ({}, {}),
        ({"layer": model.get_layer("hidden")}, {"layer": net[0]}),
        ({"layer": model.get_layer("out"), "attribute_to_layer_input": True},
         {"layer": net[2], "attribute_to_layer_input": True}),
    ):  # fmt: skip
        ours = integrad.attribute(model, x, target=[0, 1, 2, 0], **kwargs)
        reference = integrad.attribute(net, x, target=[0, 1, 2, 0], **torch_kwargs)
        torch.testing.assert_close(ours.attributions, reference.attributions, rtol=1e-5, atol=1e-6)
        assert ours.delta.abs().max() < 1e-5
    assert [p.requires_grad for p in model.parameters()] == flags  # frozen only for the call


def test_explain_tabular(twins):
    net, model = twins
    ours = integrad.explain_tabular(model, ROWS, target=1)
    reference = integrad.explain_tabular(net, ROWS, target=1)
    np.testing.assert_allclose(
        ours.attributions.values, reference.attributions.values, rtol=1e-5, atol=1e-6
    )


def test_the_alibi_door_on_a_model_with_two_inputs():
    torch.manual_seed(1)
    linear = nn.Linear(5, 2)

    class TwoInputs(nn.Module):
        def forward(self, a, b):
            return torch.tanh(linear(torch.cat((a, b), dim=1)))

    a, b = keras.Input((3,)), keras.Input((2,))
    dense = keras.layers.Dense(2, activation="tanh", name="dense")
    model = keras.Model([a, b], dense(keras.layers.Concatenate()([a, b])))
    copy_dense(dense, linear)
    X = [ROWS[:, :3], ROWS[:, 3:]]
    ours = alibi.IntegratedGradients(model).explain(X, target=[0, 1, 1, 0])  # model(X), a list
    reference = alibi.IntegratedGradients(TwoInputs()).explain(X, target=[0, 1, 1, 0])
    assert [x.shape for x in ours.attributions] == [(4, 3), (4, 2)]
    for got, want in zip(ours.attributions, reference.attributions, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predictions, reference.predictions, rtol=1e-6)
    by_layer = alibi.IntegratedGradients(model, layer=lambda m: m.get_layer("dense"))
    assert by_layer.explain(X, target=1).attributions[0].shape == (4, 2)
    assert alibi.IntegratedGradients(model, layer=dense).meta["params"]["layer"] == 3


def conv_twins(data_format: str):
    torch.manual_seed(2)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Softplus(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    shape = (8, 8, 3) if data_format == "channels_last" else (3, 8, 8)
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="softplus", data_format=data_format)
    dense = keras.layers.Dense(2)
    inputs = keras.Input(shape)
    pooled = keras.layers.GlobalAveragePooling2D(data_format=data_format)(conv(inputs))
    model = keras.Model(inputs, dense(pooled))
    conv.kernel.assign(net[0].weight.detach().permute(2, 3, 1, 0).numpy())  # (kh, kw, in, out)
    conv.bias.assign(net[0].bias.detach().numpy())
    copy_dense(dense, net[4])
    return net, model


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_explain_image_hands_a_keras_model_its_own_layout(data_format):
    net, model = conv_twins(data_format)
    image = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    ours = integrad.explain_image(model, image, target=1, n_steps=16)
    reference = integrad.explain_image(net, image, target=1, n_steps=16)
    assert ours.attributions.shape == (2, 3, 8, 8)  # channels-first, like every result
    torch.testing.assert_close(ours.attributions, reference.attributions, rtol=1e-5, atol=1e-6)


def test_a_saved_model_reloads_to_the_same_attributions(tmp_path):
    model = keras_twin("functional", torch_mlp())
    model.save(tmp_path / "mlp.keras")
    reloaded = keras.saving.load_model(tmp_path / "mlp.keras")
    x = torch.from_numpy(ROWS)
    first = integrad.attribute(model, x, target=2).attributions
    torch.testing.assert_close(integrad.attribute(reloaded, x, target=2).attributions, first)


def test_another_backend_is_refused_with_the_switch(monkeypatch):
    # A Keras model on the TensorFlow backend: a Keras class that is not a torch module.
    Functional = type("Functional", (), {"__module__": "keras.src.models.functional",
                                          "__call__": lambda self, x: x})  # fmt: skip
    monkeypatch.setattr(foreign, "keras_backend", lambda: "tensorflow")
    model = Functional()
    message = r"Keras model on the 'tensorflow' backend.*KERAS_BACKEND.*'torch'.*load unchanged"
    with pytest.raises(integrad.ModelError, match=message):
        integrad.attribute(model, torch.ones(1, 3))
    with pytest.raises(integrad.ModelError, match=message):
        integrad.explain_tabular(model, ROWS)
    with pytest.raises(integrad.ModelError, match=message):
        integrad.explain_image(model, torch.rand(3, 4, 4))
    with pytest.raises(integrad.ModelError, match=message):
        alibi.IntegratedGradients(model)
