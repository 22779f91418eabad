"""Keras 3 models in integrad's front ends, under the torch backend.

With ``KERAS_BACKEND=torch`` set before keras is first imported, a Keras 3 model (functional,
sequential or subclassed) and each of its layers is a torch module:
:func:`integrad.attribute`, :func:`integrad.explain_tabular` and
:func:`integrad.explain_image` take it as it is, and ``layer=`` takes its Keras layers
(``model.get_layer("dense")``). On another backend integrad says how to switch
(:mod:`integrad.core.foreign`); the weights load unchanged.

Two conventions differ from torch models, and are bridged here:

- Keras image models are channels-last, (N, H, W, C), by default, while integrad hands
  image models (N, C, H, W): :func:`image_model` wraps a channels-last model in
  :class:`ChannelsLast`, and its attributions come back channels-first like every
  ``explain_image`` result.
- A Keras model with several inputs takes them as one list, ``model([a, b])``, while
  integrad passes a tuple of inputs positionally: :class:`ListInputs` bridges the two.

Example:
    >>> import os; os.environ["KERAS_BACKEND"] = "torch"  # before the first import of keras
    >>> import keras, torch, integrad
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> integrad.attribute(model, torch.ones(1, 3), target=0).attributions.shape
    torch.Size([1, 3])
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from integrad.core.foreign import is_keras_model


class ListInputs(nn.Module):
    """A multi-input Keras model called positionally: ``ListInputs(model)(a, b)`` runs
    ``model([a, b])``.

    Example:
        >>> integrad.attribute(ListInputs(model), (a, b), target=0)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor, **kwargs: Any) -> Any:
        return self.model(list(inputs), **kwargs)


class ChannelsLast(nn.Module):
    """A channels-last image model called with (N, C, H, W) images."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return self.model(images.permute(0, 2, 3, 1), *args, **kwargs)


def image_model(model: Any) -> Any:
    """``model`` as :func:`integrad.explain_image` calls it: a channels-last Keras model
    wrapped in :class:`ChannelsLast`, anything else as it is."""
    if is_keras_model(model) and isinstance(model, nn.Module) and channels_last(model):
        return ChannelsLast(model)
    return model


def channels_last(model: Any) -> bool:
    """Whether a Keras model reads images channels-last: its first layer with a
    ``data_format`` says so, or else Keras's ``image_data_format()`` setting."""
    for layer in _layers(model):
        data_format = getattr(layer, "data_format", None)
        if data_format in ("channels_last", "channels_first"):
            return data_format == "channels_last"
    keras = sys.modules.get("keras")
    return keras is None or keras.config.image_data_format() == "channels_last"


def _layers(model: Any) -> Iterator[Any]:
    """A Keras model's layers, depth first (nested models included)."""
    for layer in getattr(model, "layers", None) or ():
        yield layer
        yield from _layers(layer)
